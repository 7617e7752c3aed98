import time
import uuid

import pytest

from imagesearch_dev.localstack import Stack
from shared.schemas import ImageState
from shared.state import RedisJobStore
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
