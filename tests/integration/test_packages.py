"""Each package installed alone, as its image installs it (`uv sync --locked --no-dev
--package X`): its entry points import, so an import it never declared fails here, and none of
the development tooling rides along."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import ROOT

UV = shutil.which("uv") or str(ROOT / ".tools" / "uv" / "bin" / "uv")
TOOLING = ["imagesearch_dev", "pytest", "playwright", "milvus_lite"]
ENTRY_POINTS = {
    "ingestapi": ["ingestapi.main"],
    "ingestworker": [
        "ingestworker.celery_app",
        "ingestworker.tasks",
        "ingestworker.cli.reindex",
        "ingestworker.cli.reconcile",
    ],
    "searchapi": ["searchapi.main"],
    "cdnapi": ["cdnapi.main"],
    "imagesearch-ingest": ["ingestclient.cli"],
}
# what the bulk client must install without: the server's dependencies
SERVER_ONLY = ["shared", "fastapi", "celery", "pymilvus", "minio", "torch", "PIL"]

PROBE = """
import importlib, importlib.util, json, sys
imported = [importlib.import_module(m).__name__ for m in sys.argv[2].split(",")]
absent = [m for m in sys.argv[1].split(",") if importlib.util.find_spec(m) is None]
shared = importlib.util.find_spec("shared")
root = __import__("pathlib").Path(shared.origin).parent if shared and shared.origin else None
files = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")) if root else []
print(json.dumps({"imported": imported, "absent": absent, "shared": files}))
"""


def installed_alone(package: str, env_dir: Path) -> None:
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(env_dir), "UV_PYTHON_DOWNLOADS": "never"}
    argv = [UV, "sync", "--locked", "--no-dev", "--no-editable", "--package", package, "-q"]
    subprocess.run(argv, cwd=ROOT, env=env, check=True, timeout=600)


def probe(env_dir: Path, absent: list[str], modules: list[str]) -> dict[str, list[str]]:
    python = env_dir / "bin" / "python"
    # outside the checkout, so only what was installed can be imported
    run = subprocess.run(
        [str(python), "-c", PROBE, ",".join(absent), ",".join(modules)],
        cwd=env_dir,
        env={"PATH": os.environ["PATH"], "IMAGESEARCH_CONF_DIR": str(env_dir)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, list[str]] = json.loads(run.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize("package", ["ingestapi", "ingestworker", "searchapi", "cdnapi"])
def test_a_service_installed_alone_imports_and_carries_no_tooling(
    package: str, tmp_path: Path
) -> None:
    installed_alone(package, tmp_path / "venv")
    found = probe(tmp_path / "venv", [*TOOLING, "ingestclient"], ENTRY_POINTS[package])
    assert found["imported"] == ENTRY_POINTS[package]
    assert found["absent"] == [*TOOLING, "ingestclient"]
    assert "preflight.py" in found["shared"]
    dev_only = [f for f in found["shared"] if f.startswith(("localstack", "embedding/train"))]
    assert dev_only == []
    assert "embedding/clip_builder.py" not in found["shared"]


def test_the_bulk_client_installs_without_the_servers_dependencies(tmp_path: Path) -> None:
    installed_alone("imagesearch-ingest", tmp_path / "venv")
    found = probe(tmp_path / "venv", SERVER_ONLY, ENTRY_POINTS["imagesearch-ingest"])
    assert found["imported"] == ["ingestclient.cli"]
    assert found["absent"] == SERVER_ONLY
