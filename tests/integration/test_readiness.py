"""Readiness follows the dependencies: red while Redis is down, green once it is back."""

import time

import httpx

from shared.localstack import Stack

POLL_INTERVAL_S = 0.25  # between looks at /readyz, until the deadline


def wait_status(url: str, status: int, timeout_s: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while (response := httpx.get(url, timeout=10)).status_code != status:
        assert time.monotonic() < deadline, response.text
        time.sleep(POLL_INTERVAL_S)
    return response


def test_every_api_is_ready_with_the_stack_up(full_stack: Stack) -> None:
    for name in ("ingestapi", "searchapi", "cdnapi"):
        body = wait_status(f"{full_stack.settings.url(name)}/readyz", 200).json()
        assert body["status"] == "ready", name
        assert set(body["checks"].values()) == {"ok"}, name


def test_ingestapi_turns_red_without_redis_and_green_again(full_stack: Stack) -> None:
    url = f"{full_stack.settings.url('ingestapi')}/readyz"
    full_stack.table.stop("redis")
    try:
        down = wait_status(url, 503)
        assert down.json()["checks"]["redis"] != "ok"
        assert down.json()["checks"]["storage"] == "ok"
    finally:
        full_stack.up(["redis"])
    assert wait_status(url, 200).json()["checks"]["redis"] == "ok"
