"""A real Celery worker process (prefork) indexes what the producer queues on Redis."""

import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from shared.ids import content_id, original_key
from shared.queue import CeleryTaskQueue, make_celery
from shared.schemas import ImageState
from shared.state import RedisJobStore
from shared.storage import MinioObjectStore
from shared.vectors import MilvusVectorIndex
from tests.support.images import image_bytes, unique_image_bytes
from tests.support.metrics import metric_sum
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
    batch = [unique_image_bytes((40, 90, n * 15), fmt="JPEG") for n in range(16)]
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


def test_one_image_uploads_are_gathered_into_fewer_forward_passes(worker: Stack) -> None:
    """Twenty uploads of one image each, as a curl loop or the page sends them: the worker
    gathers their tasks, so the model runs fewer times than there are images, and every image
    is indexed exactly once."""
    ingest = worker.settings.url("ingestapi")
    metrics = f"http://127.0.0.1:{worker.service_env()['INGESTWORKER__METRICS__PORT']}/metrics"
    passes_before = _worker_metric(metrics, "imagesearch_worker_forward_passes_total")
    indexed_before = _worker_metric(metrics, "imagesearch_worker_batch_images_sum")
    images = [unique_image_bytes((70, 20, n * 12), fmt="PNG") for n in range(20)]

    def upload(data: bytes) -> str:
        response = httpx.post(f"{ingest}/api/v1/images", files=[("files", ("one.png", data))])
        assert response.status_code == 202, response.text
        return str(response.json()["job_id"])

    with ThreadPoolExecutor(10) as pool:
        job_ids = list(pool.map(upload, images))
    jobs = RedisJobStore.from_url(redis_settings(worker).url)
    ids = [content_id(data) for data in images]
    assert set(wait_for_states(jobs, ids).values()) == {ImageState.indexed}
    assert all(jobs.get_job(job_id).state == "indexed" for job_id in job_ids)  # type: ignore[union-attr]

    def counted() -> float | None:  # the children's counts reach the main process on scrape
        indexed = _worker_metric(metrics, "imagesearch_worker_batch_images_sum") - indexed_before
        return indexed if indexed >= 20 else None

    assert eventually(counted, 30, "the worker counting its batches") == 20  # each image once
    passes = _worker_metric(metrics, "imagesearch_worker_forward_passes_total") - passes_before
    assert 1 <= passes < 20


def _worker_metric(url: str, name: str) -> float:
    return metric_sum(httpx.get(url, timeout=10).text, name) or 0.0


def test_the_worker_runs_as_many_children_as_its_config_says(worker: Stack) -> None:
    """Started as the deployments start it (no --concurrency; worker.concurrency from the
    environment): one child holding a model, not celery's default of one per CPU."""
    pid = worker.table.running_pid("worker")
    assert pid is not None
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == worker.settings.worker_concurrency == 1
    assert (os.cpu_count() or 1) > 1  # else the default would give the same count
