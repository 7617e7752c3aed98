"""Waiting for something another process does: poll with a deadline, never a fixed sleep."""

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from imagesearch_dev.localstack import Stack

T = TypeVar("T")
POLL_INTERVAL_S = 0.2


def eventually(
    check: Callable[[], T | None],
    timeout_s: float,
    what: str = "the condition",
    interval_s: float = POLL_INTERVAL_S,
) -> T:
    """Call ``check`` until it returns something truthy, and return that; past the deadline,
    fail naming ``what`` and the last value seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout_s:.0f} s (last: {value!r})")
        time.sleep(interval_s)


def finished_job(client: httpx.Client, job_id: str, timeout_s: float = 120) -> dict[str, Any]:
    """A job's status once none of its images is pending any more (indexed or failed)."""

    def finished() -> dict[str, Any] | None:
        response = client.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job = dict(response.json())
        return job if job["state"] in ("indexed", "failed") else None

    return eventually(finished, timeout_s, f"job {job_id} finishing")


def enriched(client: httpx.Client, image_id: str, timeout_s: float = 120) -> dict[str, Any]:
    """An indexed image's status once none of its enrichments is pending: its row is no longer
    rewritten (a read of milvus-lite while a row is rewritten misses it)."""

    def all_done() -> dict[str, Any] | None:
        status = dict(client.get(f"/api/v1/images/{image_id}").json())
        enrichment = status.get("enrichment")
        if enrichment is None:  # not indexed (yet)
            return None
        return status if all(e["state"] != "pending" for e in enrichment.values()) else None

    return eventually(all_done, timeout_s, f"the enrichment of {image_id}")


def process_gone(stack: Stack, name: str, timeout_s: float) -> None:
    """Until the stack's process of this name (and its pid file) is gone."""
    eventually(lambda: stack.table.running_pid(name) is None, timeout_s, f"{name} stopping")
