import io
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import ExifTags, Image

from ingestworker.service.pipeline import IndexPipeline
from shared.embedding import Vectors
from shared.errors import Unavailable
from shared.ids import content_id, details_key, original_key, preview_key, thumbnail_key
from shared.schemas import ImageState
from shared.storage import StoredObject
from shared.vectors import ImageRecord
from tests.support.images import image_bytes
from tests.support.oddities import ODDITIES
from tests.support.worker import index_pipeline
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
    return index_pipeline(store, index, embedder, jobs), store, index, jobs, embedder


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
    pipeline = index_pipeline(
        store, index, ColourEmbedder(), jobs, derived={"thumbnail_px": 64, "preview_px": 256}
    )
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


class PickyEmbedder(ColourEmbedder):
    """Rejects any batch holding a pure green image, as a model rejects an input it cannot
    take: the whole forward pass fails."""

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        if any(img.getpixel((0, 0)) == (0, 128, 0) for img in images):
            self.calls.append(-len(images))
            raise ValueError("the model cannot take this input")
        return super().embed_images(images)


class PickyIndex(InMemoryVectorIndex):
    """Refuses a batch holding a row named 'refused.png' (a data problem) while it answers."""

    def upsert(self, records: Sequence[ImageRecord]) -> None:
        if any(r.filename == "refused.png" for r in records):
            raise Unavailable("vector index error: value too long for field filename")
        super().upsert(records)


class DownIndex(InMemoryVectorIndex):
    def upsert(self, records: Sequence[ImageRecord]) -> None:
        raise Unavailable("vector index error: connection refused")

    def ping(self) -> None:
        raise Unavailable("vector index error: connection refused")


class OneKeyBrokenStore(InMemoryObjectStore):
    def __init__(self, broken: str) -> None:
        super().__init__()
        self.broken = broken

    def open(self, key: str, offset: int = 0, length: int | None = None) -> StoredObject:
        if key == self.broken:
            raise RuntimeError("checksum mismatch in the stored object")
        return super().open(key, offset, length)


def colours(store: InMemoryObjectStore, count: int) -> list[str]:
    return [stored(store, image_bytes((10 * n, 0, 200)), f"{n}.png") for n in range(count)]


def test_a_batch_the_model_rejects_is_split_until_only_the_culprit_fails() -> None:
    store, index, jobs, embedder = (
        InMemoryObjectStore(),
        InMemoryVectorIndex(),
        InMemoryJobStore(),
        PickyEmbedder(),
    )
    ids = colours(store, 7)
    poison = stored(store, image_bytes((0, 128, 0)), "poison.png")
    report = index_pipeline(store, index, embedder, jobs).run([*ids[:3], poison, *ids[3:]])
    assert sorted(report.indexed) == sorted(ids)
    assert report.failed == {poison: "ValueError: the model cannot take this input"}
    assert set(index.records) == set(ids)
    assert embedder.calls[0] == -8  # the whole batch first, then halves
    assert sum(n for n in embedder.calls if n > 0) == 7  # every good image embedded once


def test_a_row_the_index_refuses_while_it_answers_fails_alone() -> None:
    store, index, jobs = InMemoryObjectStore(), PickyIndex(), InMemoryJobStore()
    ids = colours(store, 5)
    refused = stored(store, image_bytes("white"), "refused.png")
    report = index_pipeline(store, index, ColourEmbedder(), jobs).run([refused, *ids])
    assert sorted(report.indexed) == sorted(ids)
    assert list(report.failed) == [refused]
    assert "value too long" in report.failed[refused]
    assert jobs.state_of(refused) == ImageState.failed


def test_an_index_that_does_not_answer_is_an_outage_for_the_whole_batch() -> None:
    store, jobs = InMemoryObjectStore(), InMemoryJobStore()
    ids = colours(store, 3)
    with pytest.raises(Unavailable):
        index_pipeline(store, DownIndex(), ColourEmbedder(), jobs).run(ids)
    assert not any(state == ImageState.failed for state, _ in jobs.states.values())


def test_an_unexpected_error_on_one_image_fails_it_with_its_type_and_message() -> None:
    store = OneKeyBrokenStore("")
    ids = colours(store, 3)
    store.broken = original_key(ids[1])
    index, jobs = InMemoryVectorIndex(), InMemoryJobStore()
    report = index_pipeline(store, index, ColourEmbedder(), jobs).run(ids)
    assert report.indexed == [ids[0], ids[2]]
    assert report.failed == {ids[1]: "RuntimeError: checksum mismatch in the stored object"}
    assert {state for state, _ in jobs.states.values()} == {ImageState.indexed, ImageState.failed}


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_every_odd_file_is_indexed() -> None:
    pipeline, store, index, jobs, _ = setup()
    ids = [stored(store, make(), name) for name, make in ODDITIES.items()]
    report = pipeline.run(ids)
    assert report.failed == {}
    assert set(index.records) == set(ids)
    assert all(jobs.state_of(i) == ImageState.indexed for i in ids)
