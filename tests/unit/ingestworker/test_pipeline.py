import io
from datetime import UTC, datetime

import numpy as np
from PIL import ExifTags, Image

from ingestworker.service.pipeline import IndexPipeline
from shared.ids import content_id, details_key, original_key, preview_key, thumbnail_key
from shared.schemas import ImageState
from tests.support.images import image_bytes
from tests.unit.fakes import (
    ColourEmbedder,
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
)


def setup() -> tuple[
    IndexPipeline, InMemoryObjectStore, InMemoryVectorIndex, InMemoryJobStore, ColourEmbedder
]:
    store, index, jobs, embedder = (
        InMemoryObjectStore(),
        InMemoryVectorIndex(),
        InMemoryJobStore(),
        ColourEmbedder(),
    )
    return IndexPipeline(store, index, embedder, jobs), store, index, jobs, embedder


def stored(store: InMemoryObjectStore, data: bytes, name: str) -> str:
    image_id = content_id(data)
    meta = {"filename": name, "uploaded-at": "2026-01-02T03:04:05+00:00"}
    store.put(original_key(image_id), data, "image/png", meta)
    return image_id


def test_batch_is_embedded_in_one_call_and_upserted_with_metadata() -> None:
    pipeline, store, index, jobs, embedder = setup()
    ids = [stored(store, image_bytes(c), f"{c}.png") for c in ["red", "green", "blue"]]
    report = pipeline.run(ids)
    assert report.indexed == ids
    assert embedder.calls == [3]
    red = index.records[ids[0]]
    assert np.allclose(red.vector, [1, 0, 0])
    assert (red.filename, red.width, red.height, red.content_type) == (
        "red.png",
        64,
        48,
        "image/png",
    )
    assert red.created_at == 1767323045
    assert all(jobs.state_of(i) == ImageState.indexed for i in ids)


def test_a_corrupt_or_missing_image_fails_alone() -> None:
    pipeline, store, index, jobs, _ = setup()
    good = stored(store, image_bytes("red"), "good.png")
    corrupt = stored(store, image_bytes("blue", size=(300, 300))[:200], "bad.png")
    missing = "0" * 64
    report = pipeline.run([good, corrupt, missing])
    assert report.indexed == [good]
    assert set(report.failed) == {corrupt, missing}
    assert jobs.states[corrupt][0] == ImageState.failed
    assert "corrupt" in (jobs.states[corrupt][1] or "")
    assert set(index.records) == {good}


def test_repeated_ids_are_indexed_once() -> None:
    pipeline, store, index, _, embedder = setup()
    image_id = stored(store, image_bytes("red"), "a.png")
    pipeline.run([image_id, image_id])
    assert embedder.calls == [1]
    assert index.count() == 1


def test_exif_details_and_smaller_copies_come_with_the_record() -> None:
    store, index, jobs = InMemoryObjectStore(), InMemoryVectorIndex(), InMemoryJobStore()
    pipeline = IndexPipeline(store, index, ColourEmbedder(), jobs, thumbnail_px=64, preview_px=256)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "Canon EOS R6"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2021:07:04 18:30:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = "+02:00"
    buf = io.BytesIO()
    Image.new("RGB", (1000, 500), "blue").save(buf, format="JPEG", exif=exif)
    image_id = content_id(buf.getvalue())
    store.put(
        original_key(image_id),
        buf.getvalue(),
        "image/jpeg",
        {"filename": "a.jpg", "source": "phone", "details": "1"},
    )
    store.put(details_key(image_id), b'{"caption": "sea", "tags": ["trip"]}', "application/json")
    pipeline.run([image_id])
    record = index.records[image_id]
    taken = datetime(2021, 7, 4, 16, 30, tzinfo=UTC)  # 18:30 at +02:00
    assert (record.taken_at, record.camera) == (int(taken.timestamp()), "Canon EOS R6")
    assert (record.caption, list(record.tags), record.source) == ("sea", ["trip"], "phone")
    thumbnail = Image.open(io.BytesIO(store.objects[thumbnail_key(image_id)][0]))
    preview = Image.open(io.BytesIO(store.objects[preview_key(image_id)][0]))
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (64, 32))
    assert preview.size == (256, 128)


def test_an_image_without_exif_has_no_taken_at() -> None:
    pipeline, store, index, _, _ = setup()
    image_id = stored(store, image_bytes(), "a.png")
    pipeline.run([image_id])
    assert (index.records[image_id].taken_at, index.records[image_id].camera) == (None, "")
