import time
import uuid

import pytest
import redis

from imagesearch_dev.localstack import Stack
from shared.schemas import ImageState
from shared.state import RedisJobStore
from tests.support.polling import eventually
from tests.support.stack import redis_settings


@pytest.fixture
def jobs(infra: Stack) -> RedisJobStore:
    return RedisJobStore.from_url(redis_settings(infra).url)


def test_job_progress_follows_image_states(jobs: RedisJobStore) -> None:
    job_id, a, b = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    jobs.create_job(job_id, [(a, "a.png"), (b, "b.png")])
    for image_id in (a, b):
        jobs.set_state(image_id, ImageState.queued)
    job = jobs.get_job(job_id)
    assert job is not None
    assert job.state == ImageState.queued
    jobs.set_state(a, ImageState.indexed)
    job = jobs.get_job(job_id)
    assert job is not None
    assert job.state == ImageState.processing
    jobs.set_state(b, ImageState.failed, "corrupt")
    job = jobs.get_job(job_id)
    assert job is not None
    assert job.state == ImageState.failed
    assert job.counts == {
        "stored": 0,
        "queued": 0,
        "fetching": 0,
        "processing": 0,
        "waiting": 0,
        "indexed": 1,
        "failed": 1,
        "deleted": 0,
    }
    assert [(i.filename, i.reason) for i in job.items] == [("a.png", None), ("b.png", "corrupt")]
    assert jobs.state_of(a) == ImageState.indexed


def test_unknown_job_is_none(jobs: RedisJobStore) -> None:
    assert jobs.get_job("no-such-job") is None


def test_a_url_item_follows_its_download_then_its_image(jobs: RedisJobStore) -> None:
    job_id, image_id = uuid.uuid4().hex, uuid.uuid4().hex
    good, bad = jobs.add_fetches(job_id, ["https://a.example/x.jpg", "https://b.example/y"])
    jobs.set_fetch(good, ImageState.fetching)
    job = jobs.get_job(job_id)
    assert job is not None
    assert [i.state for i in job.items] == [ImageState.fetching, ImageState.queued]
    jobs.set_fetch(bad, ImageState.failed, "the server answered HTTP 404")
    jobs.set_fetch(good, ImageState.queued, image_id=image_id)
    jobs.set_state(image_id, ImageState.indexed)
    job = jobs.get_job(job_id)
    assert job is not None
    assert [(i.url, i.id, i.state) for i in job.items] == [
        ("https://a.example/x.jpg", image_id, ImageState.indexed),
        ("https://b.example/y", None, ImageState.failed),
    ]
    assert job.items[1].reason == "the server answered HTTP 404"
    assert job.state == ImageState.failed


def test_states_of_many_ids_in_one_round_trip(jobs: RedisJobStore) -> None:
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    jobs.set_state(a, ImageState.processing)
    assert jobs.states_of([a, b]) == {a: ImageState.processing}


def test_progress_comes_back_for_many_ids_in_one_look(jobs: RedisJobStore) -> None:
    ids = [uuid.uuid4().hex for _ in range(3)]
    before = time.time()
    jobs.set_states(ids[:2], ImageState.stored)
    progress = jobs.progress_of(ids)
    assert set(progress) == set(ids[:2])
    assert all(state == ImageState.stored and at >= before - 1 for state, at in progress.values())


def test_unfinished_deliveries_are_counted_until_one_finishes(jobs: RedisJobStore) -> None:
    task_id = uuid.uuid4().hex
    assert [jobs.start_delivery(task_id) for _ in range(3)] == [0, 1, 2]
    jobs.end_delivery(task_id)
    assert jobs.start_delivery(task_id) == 0


def test_a_deleted_image_keeps_its_state_until_uploaded_again(jobs: RedisJobStore) -> None:
    image_id = uuid.uuid4().hex
    assert jobs.set_state(image_id, ImageState.processing)
    jobs.mark_deleted([image_id], finished=False)
    assert jobs.unfinished_deletes([image_id, "other"]) == {image_id}
    jobs.mark_deleted([image_id])
    assert jobs.unfinished_deletes([image_id]) == set()
    # a task that still held it cannot bring it back
    assert not jobs.set_state(image_id, ImageState.indexed)
    jobs.set_states([image_id], ImageState.queued)
    assert jobs.state_of(image_id) == ImageState.deleted
    assert jobs.deleted_among([image_id, uuid.uuid4().hex]) == {image_id}
    jobs.set_stored(image_id)  # the same bytes uploaded again
    assert jobs.state_of(image_id) == ImageState.stored
    assert jobs.set_state(image_id, ImageState.queued)


def test_counts_follow_each_image_from_state_to_state(jobs: RedisJobStore) -> None:
    before = jobs.state_counts()
    assert ImageState.indexed not in before and ImageState.deleted not in before
    ids = [uuid.uuid4().hex for _ in range(5)]
    jobs.set_states(ids, ImageState.queued)
    jobs.set_state(ids[0], ImageState.processing)
    jobs.set_state(ids[1], ImageState.failed, "corrupt")
    jobs.set_state(ids[2], ImageState.indexed)
    jobs.mark_deleted([ids[3]])
    after = jobs.state_counts()
    delta = {state: after[state] - before[state] for state in after}
    assert delta == {
        ImageState.stored: 0,
        ImageState.queued: 1,
        ImageState.fetching: 0,
        ImageState.processing: 1,
        ImageState.waiting: 0,
        ImageState.failed: 1,
    }


def test_counts_leave_out_states_older_than_the_state_ttl(infra: Stack) -> None:
    # a database of its own: dropping old states here drops none of the other tests'
    other_db = redis_settings(infra).url.rsplit("/", 1)[0] + "/7"
    short = RedisJobStore(redis.Redis.from_url(other_db), ttl_s=2)
    before = short.state_counts()[ImageState.waiting]
    short.set_state(uuid.uuid4().hex, ImageState.waiting)
    assert short.state_counts()[ImageState.waiting] == before + 1
    eventually(
        lambda: short.state_counts()[ImageState.waiting] == before, 10, "the old state dropped"
    )


def test_the_enrichment_backlog_counts_each_image_once_from_when_it_was_first_queued(
    jobs: RedisJobStore,
) -> None:
    a, b, never = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    before = jobs.enrich_backlog()
    jobs.add_to_enrich([a, b])
    first = jobs.enrich_queued_since([a, b, never])
    assert set(first) == {a, b}
    assert time.time() - 60 < first[a] <= time.time()
    jobs.add_to_enrich([a])  # queued again: still counted once, from the first time
    assert jobs.enrich_queued_since([a]) == {a: first[a]}
    assert jobs.enrich_backlog() == before + 2
    jobs.enrich_finished([a, never])
    assert jobs.enrich_backlog() == before + 1
    assert jobs.enrich_queued_since([a, b]) == {b: first[b]}
    jobs.enrich_finished([b])
    assert jobs.enrich_queued_since([]) == {}
