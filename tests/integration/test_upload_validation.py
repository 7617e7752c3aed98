"""Every odd file a camera, phone or website produces, in one upload to the running API."""

import io
import json
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from imagesearch_dev.localstack import Stack
from shared.ids import thumbnail_key
from shared.images import CONTENT_TYPES  # also registers the HEIF codec
from shared.queue import CeleryTaskQueue, make_celery
from shared.storage import MinioObjectStore
from shared.vectors import MilvusVectorIndex
from tests.support.images import unique_seed
from tests.support.polling import finished_job
from tests.support.stack import milvus_settings, redis_settings, storage_settings


def encoded(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **options)
    return buf.getvalue()


def noise(size: tuple[int, int], salt: int) -> Image.Image:
    rng = np.random.default_rng(salt)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


def bad_and_odd_files(salt: int) -> dict[str, tuple[bytes, int, str | None]]:
    """name -> (bytes, expected per-file status, expected content type when accepted)."""
    jpeg = encoded(noise((400, 300), salt), "JPEG")
    rotated = noise((80, 40), salt + 1)
    exif = rotated.getexif()
    exif[0x0112] = 6  # stored 80x40, shown 40x80
    frames = [Image.new("P", (32, 32), i) for i in range(4)]
    sixteen = Image.fromarray(np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20)
    tagged = PngImagePlugin.PngInfo()  # this call's own bytes, whatever the pixels
    tagged.add_text("Comment", str(salt))
    return {
        "fine.png": (encoded(noise((64, 48), salt + 2), "PNG"), 202, "image/png"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], 422, None),
        "png-header-on-garbage.png": (b"\x89PNG\r\n\x1a\n" + b"garbage" * 40, 422, None),
        "bomb.png": (encoded(Image.new("1", (20000, 20000)), "PNG"), 413, None),
        "empty.jpg": (b"", 400, None),
        "page.jpg": (b"<!doctype html><html><body>not a photo</body></html>", 415, None),
        "animated.gif": (
            encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], comment=str(salt)),
            202,
            "image/gif",
        ),
        "cmyk.jpg": (
            encoded(Image.new("CMYK", (40, 30), (90, 255, 0, 0)), "JPEG", comment=str(salt)),
            202,
            "image/jpeg",
        ),
        "16-bit.png": (encoded(sixteen, "PNG", pnginfo=tagged), 202, "image/png"),
        "rotated.jpg": (encoded(rotated, "JPEG", exif=exif), 202, "image/jpeg"),
        "phone.heic": (encoded(noise((64, 48), salt + 3), "HEIF"), 202, CONTENT_TYPES["HEIF"]),
        "modern.avif": (encoded(noise((64, 48), salt + 4), "AVIF"), 202, "image/avif"),
    }


# building the 20000x20000 test image is deliberate
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_each_file_gets_its_own_verdict_and_good_ones_are_indexed(
    full_stack: Stack, model_dir: Path
) -> None:
    files = bad_and_odd_files(salt=unique_seed())
    with httpx.Client(base_url=full_stack.settings.url("ingestapi"), timeout=60) as api:
        upload = api.post(
            "/api/v1/images",
            files=[("files", (name, data, "image/jpeg")) for name, (data, _, _) in files.items()],
        )
        assert upload.status_code == 202
        results = {item["filename"]: item for item in upload.json()["items"]}
        for name, (_, status, _) in files.items():
            assert results[name]["http_status"] == status, (name, results[name])
            if status != 202:
                assert results[name]["status"] == "rejected"
                assert results[name]["reason"], name
        job = finished_job(api, upload.json()["job_id"])
    assert job["counts"]["indexed"] == sum(1 for _, s, _ in files.values() if s == 202)

    dim = json.loads((model_dir / "config.json").read_text())["projection_dim"]
    index = MilvusVectorIndex.connect(milvus_settings(full_stack, "images"), str(model_dir), dim)
    stored = index.get([results[name]["id"] for name, (_, s, _) in files.items() if s == 202])
    for name, (_, status, content_type) in files.items():
        if status == 202:
            assert stored[results[name]["id"]]["content_type"] == content_type, name
    rotated = stored[results["rotated.jpg"]["id"]]
    assert (rotated["width"], rotated["height"]) == (40, 80)
    store = MinioObjectStore.from_settings(storage_settings(full_stack, "images"))
    thumbnail = Image.open(io.BytesIO(read(store, thumbnail_key(results["rotated.jpg"]["id"]))))
    assert thumbnail.size == (40, 80)  # written upright, like the stored width and height


def test_a_zip_with_caption_and_tags_is_taken_member_by_member(full_stack: Stack) -> None:
    salt = unique_seed()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("trip/a.png", encoded(noise((40, 30), salt + 10), "PNG"))
        z.writestr("trip/b.jpg", encoded(noise((30, 40), salt + 11), "JPEG"))
        z.writestr("../escape.png", encoded(noise((30, 40), salt + 12), "PNG"))
    with httpx.Client(base_url=full_stack.settings.url("ingestapi"), timeout=60) as api:
        upload = api.post(
            "/api/v1/images",
            files=[("files", ("trip.zip", archive.getvalue(), "application/zip"))],
            data={"caption": "Lisbon, day two", "tags": "travel,portugal", "source": "test"},
        )
        results = {item["filename"]: item for item in upload.json()["items"]}
        assert [r["status"] for r in results.values()] == ["accepted", "accepted", "rejected"]
        assert "unsafe path" in results["trip.zip/../escape.png"]["reason"]
        finished_job(api, upload.json()["job_id"])
        image = api.get(f"/api/v1/images/{results['trip.zip/trip/a.png']['id']}").json()
    meta = image["metadata"]
    assert (meta["caption"], meta["tags"], meta["source"]) == (
        "Lisbon, day two",
        ["travel", "portugal"],
        "test",
    )
    assert meta["filename"] == "trip.zip/trip/a.png"
    assert meta["taken_at"] is None


def test_a_file_over_max_bytes_is_cut_off_while_streaming(full_stack: Stack) -> None:
    limit = 50 * 1024 * 1024  # ingest.max_bytes by default
    good = encoded(noise((40, 30), unique_seed()), "PNG")
    with httpx.Client(base_url=full_stack.settings.url("ingestapi"), timeout=120) as api:
        upload = api.post(
            "/api/v1/images",
            files=[
                ("files", ("huge.jpg", b"\xff\xd8\xff" + bytes(limit), "image/jpeg")),
                ("files", ("good.png", good, "image/png")),
            ],
        )
    assert upload.status_code == 202
    huge, fine = upload.json()["items"]
    assert (huge["status"], huge["http_status"]) == ("rejected", 413)
    assert str(limit) in huge["reason"]
    assert fine["status"] in ("accepted", "duplicate")


def test_concurrent_uploads_of_the_same_bytes_make_one_record(full_stack: Stack) -> None:
    data = encoded(noise((50, 50), unique_seed()), "JPEG")
    url = f"{full_stack.settings.url('ingestapi')}/api/v1/images"

    def post(n: int) -> dict[str, Any]:
        files = [("files", (f"copy{n}.jpg", data, "image/jpeg"))]
        return dict(httpx.post(url, files=files, timeout=60).json()["items"][0])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(8)))
    assert sorted(r["status"] for r in results) == ["accepted"] + ["duplicate"] * 7
    assert len({r["id"] for r in results}) == 1


def test_queue_depth_counts_waiting_tasks(infra: Stack) -> None:
    app = make_celery("depth-test", redis_settings(infra))
    app.conf.task_default_queue = f"depth-{uuid.uuid4().hex[:8]}"  # no worker listens here
    queue = CeleryTaskQueue(app)
    assert queue.depth() == 0
    for i in range(3):
        queue.enqueue_index([f"{i:064x}"], job_id="depth")
    assert queue.depth() == 3


def read(store: MinioObjectStore, key: str) -> bytes:
    return store.open(key).read()
