import numpy as np

from ingestworker.service.pipeline import IndexPipeline
from shared.ids import content_id, original_key
from shared.schemas import ImageState
from tests.unit.fakes import (
    ColourEmbedder,
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    image_bytes,
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
