"""Deleting and editing images, as a user does it through nginx, with the real worker."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import redis

from imagesearch_dev.localstack import Stack
from shared.ids import details_key, image_keys, original_key
from shared.queue import make_celery
from shared.storage import MinioObjectStore
from tests.support.images import image_bytes
from tests.support.paths import ROOT
from tests.support.polling import eventually, finished_job
from tests.support.stack import redis_settings, storage_settings

SIZES = ["", "/thumbnail", "/preview"]


@pytest.fixture(scope="module")
def api(full_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def store(full_stack: Stack) -> MinioObjectStore:
    return MinioObjectStore.from_settings(storage_settings(full_stack, bucket="images"))


def fresh_jpeg(size: tuple[int, int] = (120, 90)) -> bytes:
    return image_bytes(tuple(uuid.uuid4().bytes[:3]), fmt="JPEG", size=size)


def upload(api: httpx.Client, *images: bytes, wait: bool = True, **form: str) -> list[str]:
    files = [("files", (f"p{n}.jpg", data, "image/jpeg")) for n, data in enumerate(images)]
    response = api.post("/api/v1/images", files=files, data=form)
    assert response.status_code in (200, 202), response.text
    body = response.json()
    if wait:
        assert finished_job(api, body["job_id"])["state"] == "indexed"
    return [item["id"] for item in body["items"]]


def found_ids(api: httpx.Client, **params: str | int) -> set[str]:
    response = api.get("/api/v1/image/search", params={"text": "a photo", "limit": 200, **params})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def cached_twice(api: httpx.Client, image_id: str) -> None:
    """Each URL of the image once to fill nginx's cache, once served from it."""
    for size in SIZES:
        assert api.get(f"/images/{image_id}{size}").status_code == 200
        again = api.get(f"/images/{image_id}{size}")
        assert (again.status_code, again.headers["x-cache-status"]) == (200, "HIT"), size


def assert_gone(api: httpx.Client, store: MinioObjectStore, image_id: str) -> None:
    assert api.get(f"/api/v1/images/{image_id}").status_code == 404
    for size in SIZES:
        assert api.get(f"/images/{image_id}{size}").status_code == 404, size
    assert api.get(f"/api/v1/images/{image_id}/similar").status_code == 404
    assert image_id not in found_ids(api)
    assert [key for key in image_keys(image_id) if store.exists(key)] == []


def test_a_deleted_image_is_gone_everywhere_at_once(
    api: httpx.Client, store: MinioObjectStore
) -> None:
    kept, doomed = upload(api, fresh_jpeg(), fresh_jpeg(), caption="two", tags="pair")
    for image_id in (kept, doomed):
        cached_twice(api, image_id)
    assert {kept, doomed} <= found_ids(api)
    similar = api.get(f"/api/v1/images/{kept}/similar", params={"limit": 200}).json()["items"]
    assert doomed in {item["id"] for item in similar}

    assert api.delete(f"/api/v1/images/{doomed}").status_code == 204

    assert_gone(api, store, doomed)
    similar = api.get(f"/api/v1/images/{kept}/similar", params={"limit": 200}).json()["items"]
    assert doomed not in {item["id"] for item in similar}
    assert api.delete(f"/api/v1/images/{doomed}").status_code == 404
    # the other image is untouched, and still served from the cache
    assert kept in found_ids(api, tags="pair")
    assert api.get(f"/images/{kept}/thumbnail").headers["x-cache-status"] == "HIT"


def test_bulk_delete_answers_for_each_id(api: httpx.Client, store: MinioObjectStore) -> None:
    first, second = upload(api, fresh_jpeg(), fresh_jpeg())
    unknown, malformed = "e" * 64, "../../etc/passwd"
    response = api.post(
        "/api/v1/images/delete", json={"ids": [first, unknown, second, malformed, first]}
    )
    assert response.status_code == 200, response.text
    items = {item["id"]: (item["status"], item["http_status"]) for item in response.json()["items"]}
    assert items == {
        first: ("deleted", 204),
        unknown: ("not_found", 404),
        second: ("deleted", 204),
        malformed: ("not_found", 404),
    }
    for image_id in (first, second):
        assert_gone(api, store, image_id)
    assert api.post("/api/v1/images/delete", json={"ids": []}).status_code == 422
    too_many = {"ids": [unknown] * 1001}
    assert api.post("/api/v1/images/delete", json=too_many).status_code == 422
    assert api.delete("/api/v1/images/not-an-id").status_code == 404


def test_the_same_bytes_after_a_delete_are_a_fresh_upload(
    api: httpx.Client, store: MinioObjectStore
) -> None:
    data = fresh_jpeg()
    [image_id] = upload(api, data)
    cached_twice(api, image_id)
    assert api.delete(f"/api/v1/images/{image_id}").status_code == 204
    assert api.post("/api/v1/images/check", json={"ids": [image_id]}).json()["known"] == []

    again = api.post("/api/v1/images", files=[("files", ("again.jpg", data, "image/jpeg"))])
    assert again.status_code == 202
    assert again.json()["items"][0]["status"] == "accepted"
    assert finished_job(api, again.json()["job_id"])["state"] == "indexed"
    assert image_id in found_ids(api)

    # nginx keeps the deleted image's 404 a second or two at most
    def served() -> bytes | None:
        response = api.get(f"/images/{image_id}")
        return response.content if response.status_code == 200 else None

    assert eventually(served, 10, "the image served again") == data


@contextmanager
def worker_paused(stack: Stack) -> Iterator[None]:
    """The worker stops taking tasks from the queue (what it holds, it finishes)."""
    control = make_celery("tests", redis_settings(stack)).control
    queue = "celery"
    replies = control.cancel_consumer(queue, reply=True, timeout=5)
    assert replies, "the worker answers remote control"
    try:
        yield
    finally:
        control.add_consumer(queue, reply=True, timeout=5)


def test_an_image_deleted_while_queued_is_never_indexed(
    full_stack: Stack, api: httpx.Client, store: MinioObjectStore
) -> None:
    with worker_paused(full_stack):
        kept, doomed = upload(api, fresh_jpeg(), fresh_jpeg(), wait=False)
        job = api.get(f"/api/v1/images/{doomed}").json()
        assert job["state"] == "queued"
        # an edit waits for the index
        edit = api.patch(f"/api/v1/images/{kept}", json={"caption": "too early"})
        assert edit.status_code == 409, edit.text
        assert api.delete(f"/api/v1/images/{doomed}").status_code == 204
    # the task holds both: once one is indexed, the task has run
    eventually(lambda: kept in found_ids(api), 120, "the other image indexed")
    assert_gone(api, store, doomed)
    states = redis.Redis(port=full_stack.settings.ports.redis).hget(f"image:{doomed}", "state")
    assert states == b"deleted"


def run_reconcile(stack: Stack) -> str:
    env = {**os.environ, **stack.service_env()}
    argv = [sys.executable, "-m", "ingestworker.cli.reconcile"]
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_reconcile_never_brings_a_deleted_image_back(
    full_stack: Stack, api: httpx.Client, store: MinioObjectStore
) -> None:
    done, cut_short = upload(api, fresh_jpeg(), fresh_jpeg())
    assert api.delete(f"/api/v1/images/{done}").status_code == 204
    # a delete cut short (its process died) after its mark, before the original went
    data = api.get(f"/images/{cut_short}").content
    response = api.post("/api/v1/images/delete", json={"ids": [cut_short]})
    assert response.json()["items"][0]["status"] == "deleted"
    store.put(original_key(cut_short), data, "image/jpeg")
    client = redis.Redis(port=full_stack.settings.ports.redis)
    client.hset(f"image:{cut_short}", "reason", "deleting")

    report = run_reconcile(full_stack)
    assert "being deleted 1" in report, report
    assert api.get(f"/api/v1/images/{cut_short}").status_code == 404
    assert cut_short not in found_ids(api) and done not in found_ids(api)
    # the delete is run again, and finishes
    assert api.delete(f"/api/v1/images/{cut_short}").status_code == 204
    assert not store.exists(original_key(cut_short))
    assert api.delete(f"/api/v1/images/{cut_short}").status_code == 404


def test_editing_caption_and_tags_shows_in_filters_at_once(
    api: httpx.Client, store: MinioObjectStore
) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    [image_id] = upload(api, fresh_jpeg())  # uploaded without caption or tags
    before = api.get("/api/v1/image/search", params={"text": "a harbour", "limit": 200}).json()
    score = {item["id"]: item["score"] for item in before["items"]}[image_id]

    response = api.patch(f"/api/v1/images/{image_id}", json={"tags": [tag, "Fjord"]})
    assert response.status_code == 200, response.text
    metadata = response.json()["metadata"]
    assert (metadata["tags"], metadata["caption"]) == ([tag, "Fjord"], "")
    assert found_ids(api, tags=tag) == {image_id}

    caption = "Sunset over the fjord — 夕日 🌅"
    response = api.patch(f"/api/v1/images/{image_id}", json={"caption": caption})
    assert response.json()["metadata"]["tags"] == [tag, "Fjord"]  # left out: kept
    assert api.get(f"/api/v1/images/{image_id}").json()["metadata"]["caption"] == caption
    # the vector is the one the image was indexed with
    after = api.get("/api/v1/image/search", params={"text": "a harbour", "limit": 200}).json()
    assert {item["id"]: item["score"] for item in after["items"]}[image_id] == score
    # what a reindex reads says the same
    assert store.stat(original_key(image_id)).metadata["details"] == "1"
    details = json.loads(store.open(details_key(image_id)).read())
    assert (details["caption"], details["tags"]) == (caption, [tag, "Fjord"])

    assert api.patch(f"/api/v1/images/{image_id}", json={"tags": []}).status_code == 200
    assert found_ids(api, tags=tag) == set()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"tags": ["x" * 65]},
        {"tags": [f"t{n}" for n in range(33)]},
        {"caption": "c" * 2001},
        {"colour": "red"},
        {"tags": ["bell\u0007"]},
    ],
)
def test_a_bad_edit_is_refused_with_a_reason(api: httpx.Client, body: dict[str, object]) -> None:
    response = api.patch(f"/api/v1/images/{'a' * 64}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_editing_an_unknown_image_is_not_found(api: httpx.Client) -> None:
    assert api.patch(f"/api/v1/images/{'d' * 64}", json={"caption": "x"}).status_code == 404
    assert api.patch("/api/v1/images/nope", json={"caption": "x"}).status_code == 404


def test_writes_from_another_site_are_refused(api: httpx.Client) -> None:
    headers = {"Origin": "http://evil.example"}
    assert api.delete(f"/api/v1/images/{'a' * 64}", headers=headers).status_code == 403
    edit = api.patch(f"/api/v1/images/{'a' * 64}", json={"caption": "x"}, headers=headers)
    assert edit.status_code == 403
