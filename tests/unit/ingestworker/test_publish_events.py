"""The index stages publish what happened to each image of a batch (after it is written):
indexed, the albums it joined, failed (once, with the reason); enrichment publishes the albums
an image joins when its facts land. Only hooks that hear an event get it."""

from collections.abc import Sequence
from datetime import UTC, datetime

from ingestworker.service.crash_guard import CrashGuard
from ingestworker.service.enriching import EnrichmentService
from shared.ids import content_id, original_key
from shared.saved_searches.store import SavedSearchStore
from shared.schemas import ImageState
from shared.webhooks.hook_store import WebhookStore
from shared.webhooks.webhook import Event, Webhook
from tests.support.images import image_bytes
from tests.support.worker import index_pipeline
from tests.unit.fakes import (
    ColourEmbedder,
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    RecordingDeliveries,
    RecordingQueue,
)
from tests.unit.ingestworker.test_saved_matching import (
    OPEN,
    REDS,
    ReadsOpen,
    enrich_scene,
    saved,
)

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def hooks_in(store: InMemoryObjectStore, *hooks: tuple[str, list[str], str | None]) -> None:
    kept = WebhookStore(store)
    for hook_id, heard, album in hooks:
        kept.put(
            Webhook.model_validate(
                {"id": hook_id, "url": "https://example.com/", "secret": "s" * 20,
                 "events": heard, "saved_search_id": album, "created_at": NOW,
                 "updated_at": NOW}
            )
        )  # fmt: skip
    kept.mark_changed()


def test_a_batch_publishes_indexed_joined_and_failed_for_the_hooks_that_hear_them() -> None:
    store, index, deliveries = InMemoryObjectStore(), InMemoryVectorIndex(), RecordingDeliveries()
    SavedSearchStore(store).put(saved(REDS, vectors=((1.0, 0.0, 0.0),), min_score=0.9))
    hooks_in(
        store,
        ("library", ["image.indexed", "image.failed"], None),
        ("reds", ["album.joined"], REDS),
    )
    red, blue, broken = image_bytes((250, 0, 0)), image_bytes((0, 0, 250)), b"\x89PNG not really"
    for data in (red, blue, broken):
        store.put(original_key(content_id(data)), data, "image/png")
    ids = [content_id(red), content_id(blue), content_id(broken)]
    index_pipeline(store, index, ColourEmbedder(), InMemoryJobStore(), deliveries=deliveries).run(
        ids
    )
    heard = sorted((hook, e.type, e.data["image_id"]) for hook, e in deliveries.queued)
    assert heard == sorted(
        [
            ("library", "image.indexed", ids[0]),
            ("library", "image.indexed", ids[1]),
            ("library", "image.failed", ids[2]),
            ("reds", "album.joined", ids[0]),
        ]
    )
    failed = next(e for _, e in deliveries.queued if e.type == "image.failed")
    assert failed.data["reason"]
    joined = next(e for _, e in deliveries.queued if e.type == "album.joined")
    assert joined.data["saved_search_id"] == REDS and "filename" in joined.data


class Published:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, events: Sequence[Event]) -> int:
        self.events += events
        return len(events)


def test_enrichment_publishes_the_albums_an_image_joins_and_not_those_it_was_in() -> None:
    scene, published = enrich_scene(), Published()
    image_id = scene.image_id
    service = EnrichmentService(
        scene.index, scene.store, scene.jobs, [ReadsOpen()], scene.source, published
    )
    service.run([image_id])
    assert [(e.type, e.data["saved_search_id"]) for e in published.events] == [
        ("album.joined", OPEN)
    ]
    service.run([image_id])  # enriched again: found the same, joins nothing new
    assert len(published.events) == 1


def test_a_poison_image_the_crash_guard_fails_is_published_and_a_split_is_not() -> None:
    jobs, queue, published = InMemoryJobStore(), RecordingQueue(), Published()
    guard = CrashGuard(jobs, jobs, queue, max_crashes=1, published=published)
    jobs.start_delivery("batch")  # a delivery that killed its worker
    split = guard.enter("batch", ["a" * 64, "b" * 64], "job")
    assert split is not None and split.halves == [["a" * 64], ["b" * 64]]
    assert published.events == []  # not failed: split in two
    jobs.start_delivery("alone")
    split = guard.enter("alone", ["a" * 64], "job")
    assert split is not None and split.failed == {"a" * 64: "crashed the worker 1 time"}
    [event] = published.events
    assert (event.type, event.data) == (
        "image.failed",
        {"image_id": "a" * 64, "reason": "crashed the worker 1 time"},
    )
    assert jobs.state_of("a" * 64) == ImageState.failed
