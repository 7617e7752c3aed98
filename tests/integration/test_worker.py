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
    # the prefork children log through the parent's set-up (their lines reach the log)
    log = worker.table.log_path("worker").read_text(errors="replace")
    assert "model_ready" in log and "batch_indexed" in log

    dim = json.loads((model_dir / "config.json").read_text())["projection_dim"]
    index = MilvusVectorIndex.connect(milvus_settings(worker, prefix="images"), str(model_dir), dim)
    rows = index.get(ids)
    assert set(rows) == set(ids[:2])
    assert rows[ids[0]]["filename"] == "a.jpg"
    assert rows[ids[0]]["content_type"] == "image/jpeg"  # sniffed from the bytes


def test_one_bad_image_in_a_batch_of_16_fails_alone_and_the_job_ends(worker: Stack) -> None:
    """The original of one image went bad in storage after it was accepted (truncated): it
    fails with its reason, the other 15 of its batch are indexed, and the job finishes."""
    store = MinioObjectStore.from_settings(storage_settings(worker, bucket="images"))
    jobs = RedisJobStore.from_url(redis_settings(worker).url)
    salt = uuid.uuid4().bytes[:2]
    batch = [image_bytes((salt[0], salt[1], n * 15), fmt="JPEG") for n in range(16)]
    ids = [content_id(data) for data in batch]
    batch[9] = batch[9][: len(batch[9]) // 3]  # what is stored under that id no longer decodes
    for image_id, data in zip(ids, batch, strict=True):
        store.put(original_key(image_id), data, "image/jpeg")
    job_id = f"sixteen-{uuid.uuid4().hex[:8]}"
    jobs.create_job(job_id, [(image_id, f"{n}.jpg") for n, image_id in enumerate(ids)])
    jobs.set_states(ids, ImageState.queued)
    CeleryTaskQueue(make_celery("test-producer", redis_settings(worker))).enqueue_index(ids, job_id)

    def ended() -> object:
        job = jobs.get_job(job_id)
        return job if job is not None and not job.state.pending else None

    job = eventually(ended, 120, "the job ending")
    assert job.counts[ImageState.indexed] == 15  # type: ignore[attr-defined]
    [bad] = [item for item in job.items if item.state == ImageState.failed]  # type: ignore[attr-defined]
    assert bad.id == ids[9]
    assert bad.reason is not None and bad.reason.startswith("corrupt") and "JPEG" in bad.reason
