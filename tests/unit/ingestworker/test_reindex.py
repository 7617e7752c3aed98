from ingestworker.service.reindexing import ReindexService, ReindexStates
from shared.details import update_details
from shared.ids import content_id, original_key
from tests.support.images import image_bytes
from tests.support.worker import index_pipeline
from tests.unit.fakes import (
    ColourEmbedder,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    RecordingQueue,
)


def reindex_service(
    store: InMemoryObjectStore, target: InMemoryVectorIndex, embedder: ColourEmbedder, batch: int
) -> ReindexService:
    pipeline = index_pipeline(store, target, embedder, ReindexStates())
    return ReindexService(store, target, pipeline, batch_size=batch)


def stored(store: InMemoryObjectStore, count: int) -> list[str]:
    ids = []
    for i in range(count):
        data = image_bytes((i * 20, 100, 50))
        store.put(original_key(content_id(data)), data, "image/png", {"filename": f"{i}.png"})
        ids.append(content_id(data))
    return ids


def test_build_fills_the_target_in_batches_then_switch_makes_it_live() -> None:
    store, target, embedder = InMemoryObjectStore(), InMemoryVectorIndex(), ColourEmbedder()
    ids = stored(store, 5)
    store.put("thumbs/x/256", b"not an original", "image/webp")
    service = reindex_service(store, target, embedder, 2)
    progress: list[int] = []
    report = service.build(lambda done, total: progress.append(done))
    assert set(target.records) == set(ids)
    assert embedder.calls == [2, 2, 1]
    assert progress == [2, 2, 1]
    assert not getattr(target, "live", False)
    service.switch(report)
    assert target.live and report.switched


def test_a_second_run_resumes_and_skips_what_is_there() -> None:
    store, target, embedder = InMemoryObjectStore(), InMemoryVectorIndex(), ColourEmbedder()
    ids = stored(store, 4)
    reindex_service(store, target, embedder, 8).build()
    more = stored(store, 6)[4:]
    report = reindex_service(store, target, embedder, 8).build()
    assert (report.indexed, report.skipped) == (2, 4)
    assert set(target.records) == set(ids + more)


def test_a_corrupt_original_is_reported_and_the_rest_indexed() -> None:
    store, target, embedder = InMemoryObjectStore(), InMemoryVectorIndex(), ColourEmbedder()
    ids = stored(store, 3)
    bad = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
    store.put(original_key(content_id(bad)), bad, "image/png")
    report = reindex_service(store, target, embedder, 8).build()
    assert set(target.records) == set(ids)
    assert list(report.failed) == [content_id(bad)]


def test_a_reindex_carries_what_enrichment_found_and_queues_only_the_rest() -> None:
    store, target, embedder = InMemoryObjectStore(), InMemoryVectorIndex(), ColourEmbedder()
    enriched, fresh = stored(store, 2)
    facts = {
        "place": "Lisbon, Portugal",
        "country_code": "PT",
        "enrichment": {
            "place": {"state": "done"},
            "ocr": {"state": "skipped"},
            "tags": {"state": "done"},
        },
        "auto_tags": ["tram", "street"],
        "removed_auto_tags": ["street"],  # taken away by the user: stays away
        "vector": [9.0],  # not a fact: never carried
    }
    update_details(store, enriched, {"caption": "tram", "facts": facts})
    queue = RecordingQueue()
    pipeline = index_pipeline(store, target, embedder, ReindexStates(), queue=queue)
    ReindexService(store, target, pipeline, batch_size=8).build()
    carried = target.records[enriched].extra
    assert carried["place"] == "Lisbon, Portugal" and carried["country_code"] == "PT"
    assert "vector" not in carried
    assert (carried["auto_tags"], carried["removed_auto_tags"]) == (["tram"], ["street"])
    assert target.records[enriched].caption == "tram"
    assert queue.enrich == [[fresh]]
