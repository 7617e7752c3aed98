import time

from ingestworker.service.reconciliation import ReconcileService
from shared.ids import content_id, original_key
from shared.schemas import ImageState
from shared.vectors import ImageRecord
from tests.support.images import image_bytes
from tests.unit.fakes import (
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    RecordingQueue,
)

Parts = tuple[InMemoryObjectStore, InMemoryVectorIndex, InMemoryJobStore, RecordingQueue, list[str]]


def setup(count: int) -> Parts:
    store, index, jobs, queue = (
        InMemoryObjectStore(),
        InMemoryVectorIndex(),
        InMemoryJobStore(),
        RecordingQueue(),
    )
    ids = []
    for i in range(count):
        data = image_bytes((i * 30, 0, 0))
        store.put(original_key(content_id(data)), data, "image/png")
        ids.append(content_id(data))
    return store, index, jobs, queue, ids


def service(parts: Parts) -> ReconcileService:
    store, index, jobs, queue, _ = parts
    return ReconcileService(store, index, jobs, queue, batch_size=2, stale_after_s=60)


def test_requeues_what_is_stored_but_not_indexed() -> None:
    parts = setup(5)
    _, index, jobs, queue, ids = parts
    index.upsert([ImageRecord(ids[0], [1.0, 0.0, 0.0], "a", "image/png", 1, 1, 1, 0)])
    report = service(parts).run()
    assert (report.stored, report.indexed, report.requeued) == (5, 1, 4)
    assert [len(batch) for batch, _ in queue.tasks] == [2, 2]
    assert {i for batch, _ in queue.tasks for i in batch} == set(ids[1:])
    assert all(jobs.state_of(i) == ImageState.queued for i in ids[1:])
    assert report.job_id is not None and jobs.get_job(report.job_id) is not None


def test_leaves_recent_work_alone_and_retakes_stale_work() -> None:
    parts = setup(2)
    _, _, jobs, queue, ids = parts
    jobs.set_state(ids[0], ImageState.processing)
    jobs.since[ids[0]] = time.time()  # just started
    jobs.set_state(ids[1], ImageState.queued)
    jobs.since[ids[1]] = time.time() - 3600  # queued an hour ago: its task was lost
    report = service(parts).run()
    assert (report.in_flight, report.requeued) == (1, 1)
    assert queue.tasks[0][0] == [ids[1]]


def test_nothing_to_do_queues_nothing() -> None:
    parts = setup(0)
    queue = parts[3]
    report = service(parts).run()
    assert (report.stored, report.requeued, report.job_id) == (0, 0, None)
    assert queue.tasks == []


def test_waiting_failed_and_long_queued_images_are_left_alone() -> None:
    parts = setup(5)
    _, _, jobs, queue, ids = parts
    hour_ago = time.time() - 3600
    for image_id, state in zip(
        ids[:4],
        [ImageState.waiting, ImageState.failed, ImageState.queued, ImageState.processing],
        strict=True,
    ):
        jobs.set_state(image_id, state)
        jobs.since[image_id] = hour_ago
    queue.waiting = 5000  # a long queue: the hour-old queued image is still in it
    report = service(parts).run()
    assert (report.in_flight, report.failed, report.requeued) == (2, 1, 2)
    assert {i for batch, _ in queue.tasks for i in batch} == {ids[3], ids[4]}


def test_with_an_empty_queue_a_stale_queued_image_was_lost_and_is_queued_again() -> None:
    parts = setup(1)
    _, _, jobs, _, ids = parts
    jobs.set_state(ids[0], ImageState.queued)
    jobs.since[ids[0]] = time.time() - 3600
    assert service(parts).run().requeued == 1


def test_failed_images_are_queued_again_only_when_asked() -> None:
    parts = setup(2)
    _, _, jobs, _, ids = parts
    jobs.set_state(ids[0], ImageState.failed, "corrupt")
    assert service(parts).run().requeued == 1
    jobs.set_state(ids[1], ImageState.failed, "corrupt")
    report = service(parts).run(retry_failed=True)
    assert (report.failed, report.requeued) == (0, 2)
    assert jobs.state_of(ids[0]) == ImageState.queued


def test_indexed_images_whose_enrichment_was_lost_are_queued_for_it_again() -> None:
    parts = setup(4)
    _, index, jobs, queue, ids = parts
    done: dict[str, object] = {
        "enrichment": {
            "place": {"state": "done"},
            "ocr": {"state": "skipped"},
            "tags": {"state": "done"},
        }
    }
    extras: list[dict[str, object]] = [{}, {}, {}, done]
    for image_id, extra in zip(ids, extras, strict=True):
        index.upsert(
            [ImageRecord(image_id, [1.0, 0.0, 0.0], "a", "image/png", 1, 1, 1, 0, extra=extra)]
        )
        jobs.set_state(image_id, ImageState.indexed)
    jobs.add_to_enrich([ids[1], ids[2]])
    jobs.enrich_since[ids[2]] = time.time() - 3600  # its task was lost an hour ago
    # ids[0]: never in the backlog (Redis lost it); ids[1]: on its way; ids[3]: enriched
    report = service(parts).run()
    assert report.enrich_requeued == 2
    assert sorted(i for batch in queue.enrich for i in batch) == sorted([ids[0], ids[2]])
    assert jobs.enrich_pending == {ids[0], ids[1], ids[2]}
    assert jobs.enrich_queued_since([ids[2]])[ids[2]] > time.time() - 60  # counted afresh
    assert queue.tasks == []  # nothing to index again


def test_an_enrichment_is_queued_again_for_every_indexed_image_when_asked() -> None:
    parts = setup(3)
    _, index, jobs, queue, ids = parts
    for image_id in ids[:2]:  # ids[2] is stored, not indexed
        index.upsert([ImageRecord(image_id, [1.0, 0.0, 0.0], "a", "image/png", 1, 1, 1, 0)])
    assert service(parts).enrich_again(["tags"]) == 2
    assert sorted(i for batch in queue.enrich for i in batch) == sorted(ids[:2])
    assert queue.enrich_only == [["tags"]]
    assert set(jobs.enrich_queued_since(ids)) == set(ids[:2])  # counted in the backlog
