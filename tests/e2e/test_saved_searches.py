"""Saved searches on the whole local stack, through nginx: saved into object storage only when
the query reads, its album paged as a search (the worker indexed the pictures), renamed,
deleted; bad input refused with a reason."""

import uuid
from collections.abc import Iterator

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from shared.saved_searches.store import SavedSearchStore
from shared.storage import MinioObjectStore
from tests.support.images import image_bytes
from tests.support.polling import finished_job
from tests.support.stack import storage_settings


@pytest.fixture(scope="module")
def api(full_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def saved_in_storage(full_stack: Stack) -> SavedSearchStore:
    return SavedSearchStore(MinioObjectStore.from_settings(storage_settings(full_stack, "images")))


@pytest.fixture(scope="module")
def tagged(api: httpx.Client) -> tuple[str, dict[str, str]]:
    """A red and a blue picture under a tag of their own, indexed."""
    tag = f"album-{uuid.uuid4().hex[:8]}"
    shade = uuid.uuid4().bytes[0] // 8
    files = {
        "red.png": image_bytes((230, shade, shade), size=(80, 60)),
        "blue.png": image_bytes((shade, shade, 230), size=(80, 60)),
    }
    response = api.post(
        "/api/v1/images",
        files=[("files", (name, data, "image/png")) for name, data in files.items()],
        data={"tags": tag},
    )
    assert response.status_code in (200, 202), response.text
    assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
    return tag, {item["filename"]: item["id"] for item in response.json()["items"]}


def album(api: httpx.Client, url: str) -> list[str]:
    response = api.get(url)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_a_saved_search_is_an_album_kept_in_storage(
    api: httpx.Client,
    saved_in_storage: SavedSearchStore,
    tagged: tuple[str, dict[str, str]],
) -> None:
    tag, ids = tagged
    body = {"name": "this tag", "query": {"text": f"tag:{tag}"}}
    created = api.post("/api/v1/saved-searches", json=body)
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["min_score_from"] == "none" and saved["model"]
    assert set(album(api, saved["images"])) == set(ids.values())
    stored = saved_in_storage.get(saved["id"])
    assert stored.query.text == f"tag:{tag}" and stored.match_criteria().clauses

    by_meaning = {
        "name": "red ones",
        "query": {"text": "red", "min_score": -1, "filters": {"tags": [tag]}},
    }
    red = api.post("/api/v1/saved-searches", json=by_meaning).json()
    assert set(album(api, red["images"])) == set(ids.values())  # min_score -1: every one
    renamed = api.patch(f"/api/v1/saved-searches/{red['id']}", json={"name": "reds"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "reds"
    listed = {s["id"]: s["name"] for s in api.get("/api/v1/saved-searches").json()}
    assert listed[saved["id"]] == "this tag" and listed[red["id"]] == "reds"

    for search_id in (saved["id"], red["id"]):
        assert api.delete(f"/api/v1/saved-searches/{search_id}").status_code == 204
        assert api.get(f"/api/v1/saved-searches/{search_id}").status_code == 404
    assert not {saved["id"], red["id"]} & {s.id for s in saved_in_storage.all()}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"name": "x", "query": {"text": "red OR"}}, "OR"),
        ({"name": "", "query": {"text": "red"}}, "name"),
        ({"name": "x", "query": {"text": "red", "min_score": "high"}}, "min_score"),
    ],
)
def test_a_bad_saved_search_is_refused_through_nginx(
    api: httpx.Client, body: dict[str, object], says: str
) -> None:
    response = api.post("/api/v1/saved-searches", json=body)
    assert response.status_code == 422
    assert says in response.text and "Traceback" not in response.text
