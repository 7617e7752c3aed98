"""A file that kills the process decoding it: the real worker (prefork), with a decoder hook
that SIGKILLs its child on a marker image. The batch is delivered again, split until the
poison is alone, and only that image fails."""

import io
import os
import signal
import subprocess
import sys
import uuid

import pytest
from PIL import Image, PngImagePlugin

from imagesearch_dev.localstack import Stack
from shared.ids import content_id, original_key
from shared.queue import CeleryTaskQueue, make_celery
from shared.schemas import ImageState
from shared.state import RedisJobStore
from shared.storage import MinioObjectStore
from tests.support.crashing_worker import MARKER
from tests.support.images import unique_image_bytes
from tests.support.paths import ROOT
from tests.support.polling import eventually
from tests.support.stack import redis_settings, storage_settings

REDIS_DB = 3


def poison_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARKER.decode())
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "purple").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


# each crash costs a new child that imports torch and loads the model (about 17 s here)
@pytest.mark.timeout(900)
def test_a_poison_image_fails_alone_after_crashing_the_worker(full_stack: Stack) -> None:
    queue_name = f"poison-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        **full_stack.service_env(),
        "IMAGESEARCH_TEST_QUEUE": queue_name,
        # a Redis database of its own, and the default visibility timeout: with the stack's
        # short one (15 s), unacknowledged messages would be handed out again while a new
        # child is still loading its model (about 17 s here) after each crash
        "INGESTWORKER__REDIS__DB": str(REDIS_DB),
        "INGESTWORKER__REDIS__VISIBILITY_TIMEOUT_S": "3600",
        "INGESTWORKER__METRICS__PORT": "0",
        "INGESTWORKER__TASKS__MAX_CRASHES": "1",  # a split at every crash: 8 → 4 → 2 → 1
    }
    argv = [
        sys.executable, "-m", "celery", "-A", "tests.support.crashing_worker", "worker",
        "--pool", "prefork", "--concurrency", "1", "--hostname", f"{queue_name}@%h",
    ]  # fmt: skip
    log_path = full_stack.run_dir / "logs" / f"{queue_name}.log"
    store = MinioObjectStore.from_settings(storage_settings(full_stack, bucket="images"))
    redis = redis_settings(full_stack).model_copy(update={"db": REDIS_DB})
    jobs = RedisJobStore.from_url(redis.url)
    batch = [unique_image_bytes((30, 60, n * 30), fmt="PNG") for n in range(7)]
    batch.insert(3, poison_png() + uuid.uuid4().bytes)
    ids = [content_id(data) for data in batch]
    for image_id, data in zip(ids, batch, strict=True):
        store.put(original_key(image_id), data, "image/png")
        jobs.set_state(image_id, ImageState.queued)
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        app = make_celery("poison-test", redis)
        app.conf.task_default_queue = queue_name
        CeleryTaskQueue(app).enqueue_index(ids, job_id="poison")
        states = eventually(
            lambda: _finished({i: jobs.state_and_reason(i) for i in ids}),
            780,
            "every image indexed or failed",
            interval_s=0.5,
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    poison = ids[3]
    assert states[poison] == (ImageState.failed, "crashed the worker 1 time")
    assert all(states[i][0] == ImageState.indexed for i in ids if i != poison)
    assert log_path.read_text().count("poison_batch_split") == 3  # 8 → 4 → 2 → 1


def _finished(
    states: dict[str, tuple[ImageState | None, str | None]],
) -> dict[str, tuple[ImageState | None, str | None]] | None:
    done = all(s in (ImageState.indexed, ImageState.failed) for s, _ in states.values())
    return states if done else None
