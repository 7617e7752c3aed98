"""Webhooks on the whole local stack, against a real receiver on loopback: an album's hook is
told when a new image joins, signed (verified here by HMAC, as a receiver does), retried after
500s and a timeout, and processed once by its event id; the library's hook hears indexed and
deleted; a hook that keeps failing is paused and says so, and resumed delivers; deleting the
saved search stops its deliveries; a stopped deliverer never holds indexing up; URLs the SSRF
guard forbids are refused with the reason."""

import hashlib
import hmac
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from imagesearch_dev.localstack import Stack
from tests.support.images import image_bytes
from tests.support.polling import eventually, finished_job
from tests.support.receiver import HANG, Receiver, running_receiver
from tests.support.stack import redis_settings


@pytest.fixture(scope="module")
def api(full_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def hooks(api: httpx.Client) -> Iterator[list[str]]:
    """Hooks a test made, deleted after it (library hooks hear every other test's uploads)."""
    made: list[str] = []
    yield made
    for hook_id in made:
        api.delete(f"/api/v1/webhooks/{hook_id}")


def make_hook(api: httpx.Client, hooks: list[str], **body: object) -> dict[str, Any]:
    response = api.post("/api/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    hooks.append(created["id"])
    return created


def upload(api: httpx.Client, tag: str = "", name: str = "hooked.png") -> str:
    data = image_bytes(tuple(uuid.uuid4().bytes[:3]), size=(64, 48))
    response = api.post(
        "/api/v1/images", files=[("files", (name, data, "image/png"))], data={"tags": tag}
    )
    assert response.status_code in (200, 202), response.text
    assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
    image_id: str = response.json()["items"][0]["id"]
    return image_id


def signed_by(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's own check: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">, recent."""
    fields = dict(part.split("=", 1) for part in headers["X-ImageSearch-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
    recent = abs(time.time() - int(fields["t"])) < 300
    return recent and hmac.compare_digest(fields["v1"], expected.hexdigest())


def deliveries(api: httpx.Client, hook_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/webhooks/{hook_id}/deliveries")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_an_album_hook_is_signed_retried_and_its_event_processed_once(
    api: httpx.Client, receiver: Receiver, hooks: list[str]
) -> None:
    tag = f"hooked-{uuid.uuid4().hex[:8]}"
    saved = api.post(
        "/api/v1/saved-searches", json={"name": "hooked", "query": {"text": f"tag:{tag}"}}
    )
    assert saved.status_code == 201, saved.text
    path = f"/album-{uuid.uuid4().hex[:6]}"
    # two 500s, then an answer after the deliverer's timeout (processed, but too late to
    # count), then 200 for the delivery sent again
    url = receiver.plan(path, 500, 500, HANG)
    hook = make_hook(api, hooks, url=url, saved_search_id=saved.json()["id"])
    assert hook["events"] == ["album.joined"] and hook["secret"].startswith("whsec_")
    assert "secret" not in api.get(f"/api/v1/webhooks/{hook['id']}").json()

    image_id = upload(api, tag)
    log = eventually(
        lambda: [d for d in deliveries(api, hook["id"]) if d["status"] == "delivered"],
        60, "the album's delivery",
    )  # fmt: skip
    assert log[0]["attempts"] == 4 and log[0]["http_status"] == 200
    got = receiver.to(path)
    assert len(got) == 4 and len({r.event["id"] for r in got}) == 1  # one event, sent 4 times
    assert all(signed_by(hook["secret"], r.headers, r.body) for r in got)
    assert not signed_by("whsec_" + "x" * 40, got[0].headers, got[0].body)
    event = got[0].event
    assert event["type"] == "album.joined" and event["id"] == log[0]["event_id"]
    assert event["data"]["saved_search_id"] == saved.json()["id"]
    assert event["data"]["image_id"] == image_id
    assert receiver.processed[path] == [event["id"]]  # the duplicate was not processed again
    assert api.delete(f"/api/v1/saved-searches/{saved.json()['id']}").status_code == 204


def test_the_library_hook_hears_an_image_indexed_and_deleted(
    api: httpx.Client, receiver: Receiver, hooks: list[str]
) -> None:
    path = f"/library-{uuid.uuid4().hex[:6]}"
    hook = make_hook(api, hooks, url=receiver.plan(path), events=["image.indexed", "image.deleted"])
    image_id = upload(api)

    def heard(kind: str) -> list[dict[str, Any]]:
        return [
            r.event for r in receiver.to(path)
            if r.event["type"] == kind and r.event["data"]["image_id"] == image_id
        ]  # fmt: skip

    eventually(lambda: heard("image.indexed"), 60, "image.indexed")
    assert api.delete(f"/api/v1/images/{image_id}").status_code == 204
    eventually(lambda: heard("image.deleted"), 60, "image.deleted")
    assert all(signed_by(hook["secret"], r.headers, r.body) for r in receiver.to(path))


def test_a_hook_that_keeps_failing_is_paused_says_why_and_delivers_once_resumed(
    api: httpx.Client, receiver: Receiver, hooks: list[str]
) -> None:
    path = f"/failing-{uuid.uuid4().hex[:6]}"
    hook = make_hook(api, hooks, url=receiver.plan(path, then=500), events=["image.indexed"])
    upload(api)
    paused = eventually(
        lambda: (h := api.get(f"/api/v1/webhooks/{hook['id']}").json())["paused"] and h,
        60, "the hook's pause",
    )  # fmt: skip
    assert "attempts in a row failed" in paused["paused_reason"]
    assert "HTTP 500" in paused["paused_reason"] and paused["pending"] >= 1
    waiting = deliveries(api, hook["id"])
    assert waiting[0]["status"] == "pending" and waiting[0]["last_error"] == "HTTP 500"
    assert waiting[0]["attempts"] >= 5 and waiting[0]["next_at"]

    receiver.plan(path, then=200)
    resumed = api.patch(f"/api/v1/webhooks/{hook['id']}", json={"paused": False})
    assert resumed.status_code == 200 and not resumed.json()["paused"]
    eventually(
        lambda: {d["status"] for d in deliveries(api, hook["id"])} == {"delivered"},
        60, "the waiting deliveries going out after the resume",
    )  # fmt: skip
    assert api.get(f"/api/v1/webhooks/{hook['id']}").json()["pending"] == 0


def test_deleting_the_saved_search_stops_its_deliveries(
    full_stack: Stack, api: httpx.Client, receiver: Receiver, hooks: list[str]
) -> None:
    tag = f"gone-{uuid.uuid4().hex[:8]}"
    saved = api.post(
        "/api/v1/saved-searches", json={"name": "gone", "query": {"text": f"tag:{tag}"}}
    ).json()
    path = f"/gone-{uuid.uuid4().hex[:6]}"
    hook = make_hook(api, hooks, url=receiver.plan(path, then=500), saved_search_id=saved["id"])
    upload(api, tag)
    first = eventually(lambda: receiver.to(path), 60, "a first attempt")[0]
    assert api.delete(f"/api/v1/saved-searches/{saved['id']}").status_code == 204
    assert api.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    client: redis.Redis[bytes] = redis.Redis.from_url(redis_settings(full_stack).url)
    record = f"webhooks:delivery:{first.headers['X-ImageSearch-Delivery']}"
    # dropped: settled, out of the queue, never sent again
    eventually(lambda: b'"status": "dropped"' in (client.get(record) or b""), 30, "the drop")
    assert client.zscore("webhooks:due", first.headers["X-ImageSearch-Delivery"]) is None


def test_a_stopped_deliverer_never_holds_indexing_up(
    full_stack: Stack, api: httpx.Client, receiver: Receiver, hooks: list[str]
) -> None:
    path = f"/later-{uuid.uuid4().hex[:6]}"
    hook = make_hook(api, hooks, url=receiver.plan(path), events=["image.indexed"])
    pid = full_stack.table.running_pid("deliverer")
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        image_ids = [upload(api, name=f"held-{n}.png") for n in range(3)]
        # indexed, each, while its delivery waits on a deliverer that does nothing
        assert api.get(f"/api/v1/webhooks/{hook['id']}").json()["pending"] >= 3
        assert receiver.to(path) == []
    finally:
        os.kill(pid, signal.SIGCONT)
    eventually(
        lambda: set(image_ids) <= {r.event["data"]["image_id"] for r in receiver.to(path)},
        60, "the deliveries once the deliverer runs again",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:9/in", "loopback"),
        ("http://localhost:9/in", "resolves to a loopback address"),
        ("http://[::1]/in", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://10.1.2.3/in", "private"),
        ("ftp://example.com/in", "only http and https"),
        ("not a url", "only http and https"),
    ],
)
def test_a_hook_to_an_address_the_guard_forbids_is_refused_with_the_reason(
    api: httpx.Client, url: str, says: str
) -> None:
    response = api.post("/api/v1/webhooks", json={"url": url})
    assert response.status_code == 422, response.text
    assert says in response.json()["detail"] and "Traceback" not in response.text


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"url": "https://example.com/", "saved_search_id": "f" * 32}, 422, "no saved search"),
        ({"url": "https://example.com/", "events": ["image.exploded"]}, 422, "events"),
        ({"url": "https://example.com/", "events": []}, 422, "events"),
        ({"url": "https://example.com/", "secret": "short"}, 422, "secret"),
        ({"url": "https://example.com/", "colour": "red"}, 422, "colour"),
        ({"url": "https://example.com/" + "a" * 3000}, 422, "url"),
        ({"url": "https://example.com/", "saved_search_id": "f" * 32,
          "events": ["image.deleted"]}, 422, "album.joined only"),
    ],
)  # fmt: skip
def test_a_bad_hook_is_refused_with_the_reason(
    api: httpx.Client, body: dict[str, object], status: int, says: str
) -> None:
    response = api.post("/api/v1/webhooks", json=body)
    assert response.status_code == status, response.text
    assert says in response.text and "Traceback" not in response.text


def test_an_unknown_hook_is_404(api: httpx.Client) -> None:
    for path in ("/api/v1/webhooks/" + "0" * 32, "/api/v1/webhooks/../x/deliveries",
                 "/api/v1/webhooks/" + "0" * 32 + "/deliveries"):  # fmt: skip
        assert api.get(path).status_code == 404, path
    assert api.patch("/api/v1/webhooks/" + "0" * 32, json={"paused": False}).status_code == 404
    assert api.delete("/api/v1/webhooks/nothing").status_code == 404


def test_the_deliverers_health_check_says_it_is_alive(full_stack: Stack) -> None:
    command = [sys.executable, "-m", "ingestworker.cli.deliver_webhooks", "--check"]
    env = {**os.environ, **full_stack.service_env()}
    assert subprocess.run(command, env=env, timeout=60, check=False).returncode == 0
    # no Redis where it looks: not alive
    away = {**env, "INGESTWORKER__REDIS__PORT": "1"}
    assert subprocess.run(command, env=away, timeout=60, check=False).returncode == 1
