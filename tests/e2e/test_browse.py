"""The library timeline and its counts through nginx, with the real worker."""

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from tests.support.images import image_bytes
from tests.support.paths import MODEL_DIR
from tests.support.polling import finished_job


@pytest.fixture(scope="module")
def api(full_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60) as client:
        yield client


def upload(api: httpx.Client, count: int, tag: str) -> list[str]:
    files = [
        ("files", (f"b{n}.jpg", image_bytes(tuple(uuid.uuid4().bytes[:3]), fmt="JPEG"), "x/y"))
        for n in range(count)
    ]
    response = api.post("/api/v1/images", files=files, data={"tags": tag})
    assert response.status_code == 202, response.text
    assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
    return [item["id"] for item in response.json()["items"]]


def browse(api: httpx.Client, url: str = "/api/v1/images", **params: Any) -> dict[str, Any]:
    response = api.get(url, params=params or None)  # an empty dict would drop url's query
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_timeline_pages_newest_first_with_the_search_item_shape(api: httpx.Client) -> None:
    tag = f"b{uuid.uuid4().hex[:10]}"
    ids = upload(api, 5, tag)
    first = browse(api, tags=tag, limit=3)
    assert first["matching"] == 5
    assert len(first["items"]) == 3
    item = first["items"][0]
    assert "score" not in item
    assert item["url"] == f"/images/{item['id']}"
    assert item["thumbnail_url"] == f"/images/{item['id']}/thumbnail"
    assert item["tags"] == [tag] and item["duplicates"] == 0
    assert api.get(item["thumbnail_url"]).status_code == 200
    second = browse(api, first["next"])
    assert second["next"] is None and second["next_cursor"] is None
    listed = [i["id"] for i in first["items"] + second["items"]]
    assert sorted(listed) == sorted(ids)
    times = [i["created_at"] for i in first["items"] + second["items"]]
    assert times == sorted(times, reverse=True)


def test_paging_while_images_are_added_neither_repeats_nor_skips(api: httpx.Client) -> None:
    tag = f"c{uuid.uuid4().hex[:10]}"
    ids = upload(api, 12, tag)
    seen: list[str] = []
    added: list[str] = []
    page = browse(api, tags=tag, limit=4)
    while True:
        seen += [item["id"] for item in page["items"]]
        if page["next"] is None:
            break
        # uploaded now: above the cursor, or in its very second with a smaller id (after it)
        added += upload(api, 3, tag)
        page = browse(api, page["next"])
    assert len(seen) == len(set(seen))
    assert set(ids) <= set(seen) <= set(ids) | set(added)
    assert browse(api, tags=tag, limit=200)["matching"] == len(ids) + len(added)


def test_deleted_images_leave_the_timeline(api: httpx.Client) -> None:
    tag = f"d{uuid.uuid4().hex[:10]}"
    kept, gone = upload(api, 2, tag)
    assert api.delete(f"/api/v1/images/{gone}").status_code == 204
    body = browse(api, tags=tag)
    assert [item["id"] for item in body["items"]] == [kept]
    assert body["matching"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "garbage!"},
        {"cursor": "x" * 600},
        {"limit": 0},
        {"limit": 201},
        {"content_type": "image/nope"},
        {"taken_from": "2024-02-01", "taken_to": "2024-01-01"},
    ],
)
def test_bad_browse_parameters_are_refused(api: httpx.Client, params: dict[str, Any]) -> None:
    response = api.get("/api/v1/images", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_stats_count_images_by_state_with_the_live_model(api: httpx.Client) -> None:
    upload(api, 1, "stats")
    stats = api.get("/api/v1/stats")
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert set(body["images"]) == {
        "indexed",
        "stored",
        "queued",
        "fetching",
        "processing",
        "waiting",
        "failed",
    }
    assert body["images"]["indexed"] >= 1
    assert body["total"] == sum(body["images"].values())
    assert body["bytes"] > 0
    assert body["model"]["model"] == str(MODEL_DIR)
    assert body["model"]["dim"] > 0
