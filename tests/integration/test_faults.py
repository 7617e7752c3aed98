"""Nothing accepted is lost: faults in the middle of an ingest, then recovery."""

import contextlib
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
import redis
from PIL import Image

from imagesearch_dev.localstack import Stack
from shared.ids import content_id, original_key
from shared.queue import CeleryTaskQueue, make_celery
from shared.schemas import ImageState
from shared.state import RedisJobStore
from shared.storage import MinioObjectStore
from shared.vectors import MilvusVectorIndex
from tests.support.images import unique_seed
from tests.support.paths import ROOT
from tests.support.polling import eventually, process_gone
from tests.support.ports import free_ports
from tests.support.stack import (
    VISIBILITY_TIMEOUT_S,
    milvus_settings,
    redis_settings,
    storage_settings,
)


def unique_jpegs(count: int, salt: int) -> list[bytes]:
    rng = np.random.default_rng(salt)
    out = []
    for _ in range(count):
        buf = io.BytesIO()
        pixels = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(buf, format="JPEG")
        out.append(buf.getvalue())
    return out


def upload(stack: Stack, images: list[bytes]) -> list[str]:
    files = [("files", (f"{i}.jpg", data, "image/jpeg")) for i, data in enumerate(images)]
    response = httpx.post(
        f"{stack.settings.url('ingestapi')}/api/v1/images", files=files, timeout=60
    )
    assert response.status_code == 202
    items = response.json()["items"]
    assert {item["status"] for item in items} == {"accepted"}
    return [item["id"] for item in items]


def live_index(stack: Stack, model_dir: Path) -> MilvusVectorIndex:
    dim = json.loads((model_dir / "config.json").read_text())["projection_dim"]
    return MilvusVectorIndex.connect(milvus_settings(stack, "images"), str(model_dir), dim)


def wait_indexed(index: MilvusVectorIndex, ids: list[str], timeout_s: float = 120) -> int:
    """How many of the ids are in the index, once all are (the count fails the test if not)."""
    return eventually(
        lambda: len(ids) if len(index.get(ids)) == len(ids) else None,
        timeout_s,
        f"{len(ids)} images indexed",
    )


def test_losing_redis_mid_ingest_then_reconcile_loses_nothing(
    full_stack: Stack, model_dir: Path
) -> None:
    ids = upload(full_stack, unique_jpegs(24, salt=unique_seed()))
    redis.Redis(port=full_stack.settings.ports.redis).flushall()  # queue and job state gone

    env = {**os.environ, **full_stack.service_env()}
    argv = [sys.executable, "-m", "ingestworker.cli.reconcile"]
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "queued again" in proc.stdout

    index = live_index(full_stack, model_dir)
    assert wait_indexed(index, ids) == len(ids)
    assert report(full_stack, "redis flushed, then reconcile", ids, index) == 0
    rerun = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "queued again 0" in rerun.stdout


def test_reconcile_queues_failed_images_again_only_when_asked(
    full_stack: Stack, model_dir: Path
) -> None:
    """An image that failed (here: marked so, as if its original had been unreadable) stays
    failed through every reconcile, until the operator asks with --retry-failed."""
    [data] = unique_jpegs(1, salt=unique_seed())
    ids = [content_id(data)]
    store = MinioObjectStore.from_settings(storage_settings(full_stack, bucket="images"))
    store.put(original_key(ids[0]), data, "image/jpeg")
    jobs = RedisJobStore.from_url(redis_settings(full_stack).url)
    jobs.set_state(ids[0], ImageState.failed, "corrupt or truncated JPEG image")
    index = live_index(full_stack, model_dir)
    env = {**os.environ, **full_stack.service_env()}
    argv = [sys.executable, "-m", "ingestworker.cli.reconcile"]
    plain = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "--retry-failed queues them again" in plain.stdout
    assert jobs.state_of(ids[0]) == ImageState.failed
    asked = subprocess.run(
        [*argv, "--retry-failed"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert asked.returncode == 0, asked.stderr
    assert wait_indexed(index, ids) == len(ids)


def test_a_worker_child_killed_mid_batch_has_its_task_redelivered(
    full_stack: Stack, model_dir: Path
) -> None:
    worker = full_stack.table.running_pid("worker")
    assert worker is not None
    ids = upload(full_stack, unique_jpegs(32, salt=unique_seed()))
    wait_processing(full_stack, ids)
    children = _children(worker)
    assert children, "the prefork worker has children"
    for child in children:  # mid-batch: the one working dies with its task unacknowledged
        os.kill(child, signal.SIGKILL)
    index = live_index(full_stack, model_dir)
    assert wait_indexed(index, ids, timeout_s=180) == len(ids)
    assert report(full_stack, "worker children SIGKILLed mid-batch", ids, index) == 0


def test_the_whole_worker_killed_mid_batch_and_restarted_loses_nothing(
    full_stack: Stack, model_dir: Path
) -> None:
    ids = upload(full_stack, unique_jpegs(32, salt=unique_seed()))
    wait_processing(full_stack, ids)
    worker = full_stack.table.running_pid("worker")
    assert worker is not None
    os.killpg(worker, signal.SIGKILL)  # parent and children at once: no warm shutdown
    process_gone(full_stack, "worker", timeout_s=30)
    full_stack.up(["worker"])
    # its unacknowledged tasks come back after the broker's visibility timeout (15 s here)
    index = live_index(full_stack, model_dir)
    assert wait_indexed(index, ids, timeout_s=180) == len(ids)
    assert report(full_stack, "whole worker SIGKILLed mid-batch, restarted", ids, index) == 0


def test_a_worker_stopped_with_sigterm_mid_batch_loses_nothing(
    full_stack: Stack, model_dir: Path
) -> None:
    """Warm shutdown: the worker finishes what it runs, hands back what it holds, exits."""
    ids = upload(full_stack, unique_jpegs(48, salt=unique_seed()))
    wait_processing(full_stack, ids)
    worker = full_stack.table.running_pid("worker")
    assert worker is not None
    os.kill(worker, signal.SIGTERM)  # the main process only, as an orchestrator does
    process_gone(full_stack, "worker", timeout_s=120)
    assert "warm shutdown" in worker_log(full_stack).lower()
    full_stack.up(["worker"])
    index = live_index(full_stack, model_dir)
    assert wait_indexed(index, ids, timeout_s=180) == len(ids)
    assert report(full_stack, "worker stopped with SIGTERM mid-batch, restarted", ids, index) == 0


def test_the_s3_server_down_during_ingest_is_retried_and_nothing_fails(
    full_stack: Stack, model_dir: Path
) -> None:
    retries_before = worker_log(full_stack).count("index_retry")
    ids = upload(full_stack, unique_jpegs(24, salt=unique_seed()))
    full_stack.table.stop("s3")
    try:
        refused = httpx.post(
            f"{full_stack.settings.url('ingestapi')}/api/v1/images",
            files=[("files", ("x.jpg", unique_jpegs(1, salt=7)[0], "image/jpeg"))],
            timeout=60,
        )
        assert refused.status_code == 503  # not stored, so not accepted
        assert int(refused.headers["retry-after"]) > 0
        eventually(
            lambda: worker_log(full_stack).count("index_retry") > retries_before,
            60,
            "the worker meeting the outage",
        )
    finally:
        full_stack.up(["s3"])
    index = live_index(full_stack, model_dir)
    assert wait_indexed(index, ids, timeout_s=180) == len(ids)
    jobs = RedisJobStore.from_url(redis_settings(full_stack).url)
    assert ImageState.failed not in jobs.states_of(ids).values()
    assert report(full_stack, "S3 server stopped during ingest, then started", ids, index) == 0


def wait_processing(stack: Stack, ids: list[str]) -> None:
    jobs = RedisJobStore.from_url(redis_settings(stack).url)
    eventually(
        lambda: any(jobs.state_of(i) == ImageState.processing for i in ids),
        60,
        "a batch starting",
        interval_s=0.02,
    )


def worker_log(stack: Stack) -> str:
    return stack.table.log_path("worker").read_text(errors="replace")


def report(stack: Stack, fault: str, ids: list[str], index: MilvusVectorIndex) -> int:
    """Append this fault's numbers to the run folder's fault report; returns how many were lost
    (missing from the index until a deadline: on milvus-lite a row that enrichment or an edit
    is rewriting is missed for a moment, which is no loss; see the conformance test
    test_an_image_rewritten_in_place_stays_visible_to_every_read_meanwhile)."""
    accepted = len(set(ids))
    counts: list[int] = []

    def all_there() -> bool:
        counts.append(index.count(ids))
        return counts[-1] == accepted

    with contextlib.suppress(AssertionError):  # what is still missing is reported, as lost
        eventually(all_there, 30, "every accepted image in the index")
    rows = max(counts)
    line = {"fault": fault, "accepted": accepted, "indexed": rows, "lost": accepted - rows}
    with (stack.run_dir / "fault-report.jsonl").open("a") as out:
        out.write(json.dumps(line) + "\n")
    return accepted - rows


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


@pytest.fixture(autouse=True)
def _worker_restarted_if_gone(full_stack: Stack) -> None:
    full_stack.up(["worker"])


def test_a_task_whose_storage_never_answers_leaves_its_images_waiting(full_stack: Stack) -> None:
    """A worker of its own whose object storage never answers, on a queue of its own: past
    its retries the image shows as waiting, with the reason; it never fails for that."""
    queue_name = f"giveup-{uuid.uuid4().hex[:8]}"
    dead_port = free_ports(1)[0]
    env = {
        **os.environ,
        **full_stack.service_env(),
        "INGESTWORKER__STORAGE__ENDPOINT": f"127.0.0.1:{dead_port}",
        "INGESTWORKER__TASKS__MAX_RETRIES": "1",
        "INGESTWORKER__METRICS__PORT": "0",
    }
    argv = [
        sys.executable, "-m", "celery", "-A", "ingestworker.celery_app", "worker",
        "--pool", "solo", "-Q", queue_name, "--hostname", f"{queue_name}@%h",
    ]  # fmt: skip
    log_path = full_stack.run_dir / "logs" / f"{queue_name}.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        app = make_celery("giveup-test", redis_settings(full_stack))
        app.conf.task_default_queue = queue_name
        image_id = hashlib.sha256(queue_name.encode()).hexdigest()
        jobs = RedisJobStore.from_url(redis_settings(full_stack).url)
        jobs.set_state(image_id, ImageState.queued)
        CeleryTaskQueue(app).enqueue_index([image_id], job_id="giveup")
        api = httpx.Client(base_url=full_stack.settings.url("ingestapi"), timeout=30)
        status = eventually(
            lambda: _waiting(api.get(f"/api/v1/images/{image_id}").json()),
            120,
            "the image showing as waiting",
        )
        # and it goes on retrying past the budget of 1, for longer than the broker's visibility
        # timeout, as one copy: a message held across retries would come back as a second
        started = time.monotonic()
        try:
            eventually(
                lambda: (
                    time.monotonic() - started > VISIBILITY_TIMEOUT_S + 5
                    and _retries_logged(log_path)[-1] >= 8
                ),
                180,
                "retries past the visibility timeout",
            )
        except AssertionError as exc:
            events = [line[:160] for line in log_path.read_text().splitlines()[-25:]]
            raise AssertionError(
                f"{exc}; worker exit code {worker.poll()}; its log ends:\n" + "\n".join(events)
            ) from exc
        retries = _retries_logged(log_path)
        assert retries == list(range(1, len(retries) + 1)), "one copy, counting its retries"
        assert "delivery_isolated" not in log_path.read_text()
        assert api.get(f"/api/v1/images/{image_id}").json()["state"] != "failed"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert status["reason"] == "waiting until it answers again: object storage unreachable"


def _retries_logged(log_path: Path) -> list[int]:
    """The retry numbers of the worker's index_retry lines, in order ([0] before any)."""
    found = re.findall(r"index_retry .* retry=(\d+)", log_path.read_text())
    return [int(n) for n in found] or [0]


def test_a_milvus_outage_longer_than_the_retries_is_waited_out(
    full_stack: Stack, model_dir: Path
) -> None:
    full_stack.table.stop("milvus")
    jobs = RedisJobStore.from_url(redis_settings(full_stack).url)
    try:
        ids = upload(full_stack, unique_jpegs(16, salt=unique_seed()))
        eventually(
            lambda: all(jobs.state_of(i) == ImageState.waiting for i in ids),
            120,
            "every image waiting for Milvus",
            interval_s=0.05,
        )
        reasons = {jobs.state_and_reason(i)[1] or "" for i in ids}
        assert all(r.startswith("waiting until it answers again: vector index") for r in reasons)
    finally:
        full_stack.up(["milvus"])
    index = live_index(full_stack, model_dir)
    assert wait_indexed(index, ids, timeout_s=180) == len(ids)
    assert ImageState.failed not in jobs.states_of(ids).values()
    assert report(full_stack, "Milvus stopped past the retry budget, then started", ids, index) == 0


def _waiting(status: dict[str, object]) -> dict[str, object] | None:
    return status if status["state"] == "waiting" else None
