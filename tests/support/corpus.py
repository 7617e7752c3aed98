"""A real corpus of odd image files: the test-image folder of Pillow's own source distribution
(about 1,050 files: every format and mode Pillow reads, and the broken files its own bug
reports left behind), for the installed Pillow version, fetched once from the package index
and kept under .run/cache (checked against the index's sha256)."""

import hashlib
import os
import tarfile
from pathlib import PurePosixPath

import httpx
import PIL

from tests.support.paths import ROOT

INDEX = os.environ.get("IMAGESEARCH_TEST_INDEX", "https://pypi.org/simple")
CACHE = ROOT / ".run" / "cache"
FOLDER = "Tests/images/"


def pillow_test_images() -> dict[str, bytes]:
    """Every file of Pillow's Tests/images, by its path below that folder."""
    archive = CACHE / f"pillow-{PIL.__version__}.tar.gz"
    if not archive.exists():
        _download(archive)
    files: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            path = PurePosixPath(member.name)
            inside = "/".join(path.parts[1:])  # below the sdist's top folder
            if member.isfile() and inside.startswith(FOLDER):
                extracted = tar.extractfile(member)
                if extracted is not None:
                    files[inside.removeprefix(FOLDER)] = extracted.read()
    return files


def _download(archive: "os.PathLike[str]") -> None:
    name = f"pillow-{PIL.__version__}.tar.gz"
    with httpx.Client(timeout=120, follow_redirects=True) as client:
        listing = client.get(
            f"{INDEX}/pillow/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        )
        listing.raise_for_status()
        entry = next(f for f in listing.json()["files"] if f["filename"] == name)
        data = client.get(entry["url"]).content
    if hashlib.sha256(data).hexdigest() != entry["hashes"]["sha256"]:
        raise RuntimeError(f"{name} from {INDEX} does not match the index's sha256")
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = CACHE / f"{name}.partial"
    partial.write_bytes(data)
    partial.replace(archive)
