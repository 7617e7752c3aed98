"""A delete is final in nginx's image cache even when a cache fill of the image is still
streaming as the delete lands: the fill must never write the bytes back after the delete."""

import threading

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from tests.support.images import another_copy, noise_png
from tests.support.polling import finished_job

ROUNDS = 8
# when the delete is sent after the first GET began (the fill of a ~27 MB original lasts longer)
DELAYS_S = [0.0, 0.01, 0.02, 0.03, 0.045, 0.06, 0.07, 0.08]


@pytest.fixture(scope="module")
def large_png() -> bytes:
    """About 27 MB of noise, so the cache fill takes a while."""
    return noise_png(3000, 20261206)


def start_fill(base: str, path: str) -> tuple[threading.Thread, threading.Event, dict[str, object]]:
    """A GET on its own connection, read to the end in a thread: the fill nginx makes for the
    first GET of an image. Returns the thread, an event set once its headers came, and what it
    saw (cache status, bytes, or the error when it was cut short)."""
    started = threading.Event()
    fill: dict[str, object] = {}

    def fetch() -> None:
        with httpx.Client(base_url=base, timeout=120) as reader:
            try:
                with reader.stream("GET", path) as response:
                    started.set()
                    fill["cache"] = response.headers.get("x-cache-status")
                    fill["bytes"] = sum(len(c) for c in response.iter_bytes())
            except httpx.HTTPError as exc:
                fill["error"] = type(exc).__name__
            finally:
                started.set()

    thread = threading.Thread(target=fetch)
    thread.start()
    return thread, started, fill


def test_a_cache_fill_under_way_never_brings_a_deleted_image_back(
    full_stack: Stack, large_png: bytes
) -> None:
    base = full_stack.settings.url("nginx")
    with httpx.Client(base_url=base, timeout=120) as api:
        outcomes = []
        for delay_s in DELAYS_S[:ROUNDS]:
            data = another_copy(large_png)
            upload = api.post("/api/v1/images", files=[("files", ("big.png", data))])
            assert upload.status_code == 202, upload.text
            image_id = upload.json()["items"][0]["id"]
            assert finished_job(api, upload.json()["job_id"])["state"] == "indexed"

            reader, started, fill = start_fill(base, f"/images/{image_id}")
            assert started.wait(60)
            if delay_s:
                threading.Event().wait(delay_s)  # the race's offset, not a wait for an outcome
            assert api.delete(f"/api/v1/images/{image_id}").status_code == 204
            reader.join(120)
            assert not reader.is_alive()

            after = api.get(f"/images/{image_id}")
            outcomes.append((delay_s, fill.get("cache"), after.status_code))
            assert after.status_code == 404, (outcomes, after.headers.get("x-cache-status"))
        # the first GET of each round was a fill (a miss), so each round raced one
        assert {cache for _, cache, _ in outcomes} == {"MISS"}, outcomes
