"""A real Celery worker process (prefork) indexes what the producer queues on Redis."""

import json
import uuid
from pathlib import Path

import pytest

from imagesearch_dev.localstack import Stack
from shared.ids import content_id, original_key
from shared.queue import CeleryTaskQueue, make_celery
from shared.schemas import ImageState
from shared.state import RedisJobStore
from shared.storage import MinioObjectStore
from shared.vectors import MilvusVectorIndex
from tests.support.images import image_bytes
from tests.support.polling import eventually
from tests.support.stack import milvus_settings, redis_settings, storage_settings


@pytest.fixture(scope="module")
def worker(full_stack: Stack) -> Stack:
    full_stack.up(["worker"])
    return full_stack


def wait_for_states(
    jobs: RedisJobStore, ids: list[str], timeout_s: float = 120
) -> dict[str, ImageState | None]:
    def finished() -> dict[str, ImageState | None] | None:
        states = {i: jobs.state_of(i) for i in ids}
        done = all(s in (ImageState.indexed, ImageState.failed) for s in states.values())
        return states if done else None

    return eventually(finished, timeout_s, "every image finishing")


def test_worker_indexes_good_images_and_fails_a_corrupt_one(worker: Stack, model_dir: Path) -> None:
    store = MinioObjectStore.from_settings(storage_settings(worker, bucket="images"))
    store.ensure_bucket()
    salt = uuid.uuid4().bytes[:3]
    good = [image_bytes(tuple(salt), fmt="JPEG"), image_bytes((salt[0], 200, 10))]
    corrupt = image_bytes("blue", size=(300, 300))[:150] + salt
    ids = [content_id(d) for d in [*good, corrupt]]
    for image_id, data, name in zip(
        ids, [*good, corrupt], ["a.jpg", "b.png", "c.png"], strict=True
    ):
        store.put(original_key(image_id), data, "image/png", {"filename": name})

    jobs = RedisJobStore.from_url(redis_settings(worker).url)
    for image_id in ids:
        jobs.set_state(image_id, ImageState.queued)
    queue = CeleryTaskQueue(make_celery("test-producer", redis_settings(worker)))
    queue.enqueue_index(ids, job_id="it")

    states = wait_for_states(jobs, ids)
    assert states == {ids[0]: "indexed", ids[1]: "indexed", ids[2]: "failed"}
    # each prefork child built its own model and logs through the parent's set-up
    log = worker.table.log_path("worker").read_text(errors="replace")
    assert log.count("model_ready") >= 2 and "batch_indexed" in log

    dim = json.loads((model_dir / "config.json").read_text())["projection_dim"]
    index = MilvusVectorIndex.connect(milvus_settings(worker, prefix="images"), str(model_dir), dim)
    rows = index.get(ids)
    assert set(rows) == set(ids[:2])
    assert rows[ids[0]]["filename"] == "a.jpg"
    assert rows[ids[0]]["content_type"] == "image/jpeg"  # sniffed from the bytes
