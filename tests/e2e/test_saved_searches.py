"""Saved searches on the whole local stack, through nginx: saved into object storage only when
the query reads, its album paged as a search (the worker indexed the pictures), renamed,
deleted; bad input refused with a reason. New images join an album as the worker indexes
them, and again when enrichment finds what makes them belong; they are new until seen."""

import random
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from imagesearch_dev.localstack import Stack
from shared.saved_searches.store import SavedSearchStore
from shared.storage import MinioObjectStore
from tests.support.images import image_bytes, jpeg_with_sign
from tests.support.polling import enriched, eventually, finished_job
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


def create(api: httpx.Client, name: str, text: str) -> dict[str, Any]:
    response = api.post("/api/v1/saved-searches", json={"name": name, "query": {"text": text}})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def new_in(api: httpx.Client, search_id: str) -> int:
    count: int = api.get(f"/api/v1/saved-searches/{search_id}").json()["new"]
    return count


def test_a_new_image_joins_the_album_as_it_is_indexed_and_is_new_until_seen(
    api: httpx.Client,
) -> None:
    tag = f"live-{uuid.uuid4().hex[:8]}"
    saved = create(api, "live", f"tag:{tag}")
    assert saved["new"] == 0
    data = image_bytes(tuple(uuid.uuid4().bytes[:3]), size=(70, 50))
    response = api.post(
        "/api/v1/images", files=[("files", ("new.png", data, "image/png"))], data={"tags": tag}
    )
    assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
    assert new_in(api, saved["id"]) == 1  # matched by the worker, in the row it wrote
    assert album(api, saved["images"]) == [response.json()["items"][0]["id"]]
    assert new_in(api, saved["id"]) == 0  # its first page was looked at


def test_an_image_joins_when_its_enrichment_finds_the_words(
    enriched: Stack, api: httpx.Client
) -> None:
    """A receipt found by the text read in it joins "receipts" when the text lands."""
    # letters OCR never confuses with digits or each other (a hex word's 0/D, 8/B did)
    word = "TOTAL" + "".join(random.choices("ACEHKMNPRTUVWXY", k=4))
    saved = create(api, "receipts", f"text:{word}")
    sign = jpeg_with_sign(f"{word} 12.50", colour=tuple(uuid.uuid4().bytes[:3]))
    response = api.post("/api/v1/images", files=[("files", ("receipt.jpg", sign, "image/jpeg"))])
    assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
    eventually(lambda: new_in(api, saved["id"]) == 1, 180, "the receipt joining its album")
    assert album(api, saved["images"]) == [response.json()["items"][0]["id"]]


def test_the_page_saves_a_search_and_opens_its_album_with_what_is_new(
    page: Page, api: httpx.Client
) -> None:
    tag = f"page-album-{uuid.uuid4().hex[:8]}"
    page.goto("/")
    page.fill("#query", f"tag:{tag}")
    page.press("#query", "Enter")
    expect(page.locator("#status")).to_contain_text(f"tag:{tag}")
    page.click("#save-search")
    page.fill("#save-name", f"album {tag}")
    page.click("#save-confirm")
    expect(page.locator("#save-dialog")).not_to_be_visible()
    album_button = page.locator("#album-list button", has_text=f"album {tag}")
    expect(album_button).to_be_visible()
    expect(album_button.locator(".new")).to_have_count(0)

    data = image_bytes(tuple(uuid.uuid4().bytes[:3]), size=(64, 64))
    response = api.post(
        "/api/v1/images", files=[("files", ("arrived.png", data, "image/png"))], data={"tags": tag}
    )
    assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
    page.reload()
    expect(album_button.locator(".new")).to_have_text("1 new")
    album_button.click()
    cards = page.locator("#results li")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-id", response.json()["items"][0]["id"])
    expect(album_button.locator(".new")).to_have_count(0)  # seen now


def test_the_page_saves_a_search_by_a_picture_and_its_album_fills_with_pictures_like_it(
    page: Page, api: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tag = f"picture-album-{uuid.uuid4().hex[:8]}"
    shade = uuid.uuid4().bytes[0] // 16
    purple, yellow = (150 + shade, 20, 200), (230, 220, 20 + shade)
    files = {
        "purple-1.png": image_bytes(purple, size=(72, 60)),
        "purple-2.png": image_bytes((purple[0] - 8, 24, 196), size=(60, 72)),
        "yellow.png": image_bytes(yellow, size=(64, 64)),
    }
    response = api.post(
        "/api/v1/images",
        files=[("files", (name, data, "image/png")) for name, data in files.items()],
        data={"tags": tag},
    )
    assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
    for item in response.json()["items"]:  # rows no longer rewritten under the page's reads
        enriched(api, item["id"])
    query = tmp_path_factory.mktemp("query") / "purple-query.png"
    query.write_bytes(image_bytes((purple[0] + 4, 18, 204), size=(50, 50)))

    page.goto("/")
    page.locator("#filters summary").click()
    page.fill("#filters input[name=tags]", tag)
    page.press("#filters input[name=tags]", "Enter")
    expect(page.locator("#results li")).to_have_count(3)  # the library, filtered
    page.set_input_files("#query-image", str(query))
    expect(page.locator("#status")).to_contain_text("purple-query.png")
    expect(page.locator("#status")).not_to_contain_text("Searching")
    expect(page.locator("#results li")).to_have_count(2)  # cut where the scores drop
    page.click("#save-search")
    expect(page.locator("#save-name")).to_have_value("Like purple-query.png")
    page.click("#save-confirm")
    expect(page.locator("#save-dialog")).not_to_be_visible()
    listed = api.get("/api/v1/saved-searches").json()
    saved = next(s for s in listed if s["name"] == "Like purple-query.png")
    assert saved["query"]["filters"]["tags"] == [tag] and saved["min_score_from"] == "cutoff"
    arrived = image_bytes((purple[0] - 4, 22, 198), size=(66, 58))
    more = api.post(
        "/api/v1/images", files=[("files", ("purple-3.png", arrived, "image/png"))],
        data={"tags": tag},
    )  # fmt: skip
    assert finished_job(api, more.json()["job_id"])["state"] == "indexed"
    assert new_in(api, saved["id"]) == 1  # matched by the worker with the picture's vector
    enriched(api, more.json()["items"][0]["id"])
    ids = {item["filename"]: item["id"] for item in response.json()["items"]}
    purples = {ids["purple-1.png"], ids["purple-2.png"], more.json()["items"][0]["id"]}
    assert set(album(api, saved["images"])) == purples
    assert api.delete(f"/api/v1/saved-searches/{saved['id']}").status_code == 204
