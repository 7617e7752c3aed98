"""One search box, through nginx and in the browser, on the whole local stack (milvus-lite has
BM25): an exact file name first, a description by meaning, field terms, why each hit matched,
syntax errors with their position, and like / unlike. Each run's images carry a tag of their
own, and every query is narrowed to it."""

import io
import random
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from imagesearch_dev.localstack import Stack
from imagesearch_dev.training.scenes import Scene, render
from tests.support.images import unique_seed
from tests.support.polling import finished_job

# (file name, scene, caption, extra tags)
LIBRARY = [
    ("IMG_2041.jpg", Scene("red", "circle", "large", 1, "centre", "white"), "", ""),
    ("IMG_2042.jpg", Scene("blue", "square", "large", 1, "centre", "white"), "lake view", ""),
    (
        "HolidayPark2019.jpg",
        Scene("green", "triangle", "large", 1, "centre", "black"),
        "",
        "picnic",
    ),
    ("DSC_0001.jpg", Scene("yellow", "star", "large", 1, "left", "grey"), "a red barn", ""),
    ("DSC_0002.jpg", Scene("purple", "cross", "large", 1, "right", "black"), "", ""),
]


@dataclass(frozen=True)
class Library:
    tag: str
    ids: dict[str, str]  # file name -> id


@pytest.fixture(scope="module")
def client(full_stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60)


@pytest.fixture(scope="module")
def library(client: httpx.Client) -> Library:
    tag = f"box-{uuid.uuid4().hex[:8]}"
    rng = random.Random(unique_seed())
    ids = {}
    for name, scene, caption, tags in LIBRARY:
        buf = io.BytesIO()
        render(scene, 256, rng).save(buf, format="JPEG", quality=92)
        fields = {"tags": ",".join(t for t in (tag, tags) if t)}
        if caption:
            fields["caption"] = caption
        upload = client.post(
            "/api/v1/images", files=[("files", (name, buf.getvalue(), "image/jpeg"))], data=fields
        ).json()
        assert finished_job(client, upload["job_id"])["state"] == "indexed"
        ids[name] = upload["items"][0]["id"]
    return Library(tag, ids)


def search(client: httpx.Client, library: Library, **params: Any) -> dict[str, Any]:
    response = client.get(
        "/api/v1/image/search", params={"limit": 20, "tags": library.tag, **params}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def names(body: dict[str, Any]) -> list[str]:
    return [item["filename"] for item in body["items"]]


@pytest.mark.parametrize("query", ["IMG_2042", "IMG_2042.jpg", "img_2042", "file:IMG_2042.jpg"])
def test_an_exact_file_name_comes_first_and_says_so(
    client: httpx.Client, library: Library, query: str
) -> None:
    body = search(client, library, text=query)
    assert body["keywords"] is True
    first = body["items"][0]
    assert first["filename"] == "IMG_2042.jpg"
    [word] = next(m["words"] for m in first["matched"] if m["field"] == "file")
    assert word == query.removeprefix("file:").lower()
    assert isinstance(first["score"], float) or query.startswith("file:")


def test_auto_cutoff_keeps_only_what_holds_every_word(
    client: httpx.Client, library: Library
) -> None:
    body = search(client, library, text="IMG_2042", cutoff="auto")
    assert names(body) == ["IMG_2042.jpg"]
    assert body["items"][0]["relevance"] > 0.5


def test_a_file_names_parts_find_it(client: httpx.Client, library: Library) -> None:
    assert names(search(client, library, text="2019"))[0] == "HolidayPark2019.jpg"
    assert names(search(client, library, text="park"))[0] == "HolidayPark2019.jpg"


def test_a_description_still_ranks_by_meaning(client: httpx.Client, library: Library) -> None:
    for name, scene, _, _ in LIBRARY:
        body = search(client, library, text=scene.caption)
        assert names(body)[0] == name, scene.caption


def test_a_caption_word_and_a_tag_are_found_literally(
    client: httpx.Client, library: Library
) -> None:
    barn = search(client, library, text="barn")["items"][0]
    assert barn["filename"] == "DSC_0001.jpg"
    assert barn["matched"] == [{"field": "caption", "words": ["barn"]}]
    tagged = search(client, library, text="tag:picnic")
    assert names(tagged) == ["HolidayPark2019.jpg"]
    assert tagged["items"][0]["score"] is None  # a literal-only query has no meaning score


def test_a_literal_match_survives_min_score(client: httpx.Client, library: Library) -> None:
    body = search(client, library, text="lake", min_score=0.99)
    assert names(body) == ["IMG_2042.jpg"]
    # holding some of the words is no reason to pass the bound
    assert search(client, library, text="lake sunset", min_score=0.99)["items"] == []


def test_exclusions_and_or(client: httpx.Client, library: Library) -> None:
    everything = names(search(client, library, text="red"))
    assert "DSC_0001.jpg" in everything
    assert "DSC_0001.jpg" not in names(search(client, library, text="red -barn"))
    either = names(search(client, library, text="tag:picnic OR lake"))
    assert set(either[:2]) == {"HolidayPark2019.jpg", "IMG_2042.jpg"}


@pytest.mark.parametrize(
    ("query", "position"), [("red OR", 4), ('"red circle', 0), ("-red", 0), ("dog:0", 3)]
)
def test_a_query_that_does_not_read_is_a_422_with_its_position(
    client: httpx.Client, query: str, position: int
) -> None:
    response = client.get("/api/v1/image/search", params={"text": query})
    assert response.status_code == 422
    body = response.json()
    assert (body["error"], body["position"]) == ("bad_query", position)
    assert "Traceback" not in response.text


def test_like_and_unlike_move_the_results(client: httpx.Client, library: Library) -> None:
    red, barn = library.ids["IMG_2041.jpg"], library.ids["DSC_0001.jpg"]
    liked = search(client, library, like=[red])
    assert red not in [i["id"] for i in liked["items"]]
    assert len(liked["items"]) == len(LIBRARY) - 1
    plain = {i["id"]: i["score"] for i in search(client, library, text="red")["items"]}
    moved = search(client, library, text="red", unlike=[barn])
    scores = {i["id"]: i["score"] for i in moved["items"]}
    assert barn not in scores
    assert scores[red] > plain[red]  # away from the yellow barn: closer to the red circle
    unknown = client.get("/api/v1/image/search", params={"like": "0" * 64})
    assert unknown.status_code == 404


def test_readiness_says_keyword_search_is_on(full_stack: Stack) -> None:
    ready = httpx.get(f"{full_stack.settings.url('searchapi')}/readyz", timeout=10).json()
    assert ready["keyword_search"] is True


# ---- the page


def open_search(page: Page, library: Library, text: str) -> None:
    page.goto("/")
    page.click("#filters summary")
    page.fill("input[name='tags']", library.tag)
    page.uncheck("input[name='cutoff']")
    page.fill("#query", text)
    page.press("#query", "Enter")


def test_the_page_shows_why_a_result_matched(page: Page, library: Library) -> None:
    open_search(page, library, "IMG_2042")
    cards = page.locator("#results li")
    expect(cards.first.locator(".caption")).to_contain_text("IMG_2042.jpg")
    chip = cards.first.locator(".matched .chip[data-field='file']")
    expect(chip).to_contain_text("file name")
    expect(chip.locator("mark")).to_have_text("img_2042")
    expect(cards.first.locator(".chip[data-field='meaning']")).to_contain_text("meaning")
    cards.first.locator(".open").click()
    expect(page.locator("#lightbox-title mark")).to_have_text("IMG_2042")
    expect(page.locator("#lightbox-meta")).to_contain_text("Matched")

    page.click("#lightbox-close")
    page.fill("#query", "barn")
    page.press("#query", "Enter")
    expect(cards.first.locator(".caption")).to_contain_text("DSC_0001.jpg")
    cards.first.locator(".open").click()
    caption = page.locator("#lightbox-meta dd", has_text="a red barn")
    expect(caption.locator("mark")).to_have_text("barn")
    # the words are marked by the page's own nodes: nothing the server sent became markup
    assert page.locator("#lightbox-meta dd script, #results script").count() == 0


def test_the_page_marks_where_a_query_stops_reading(page: Page, library: Library) -> None:
    open_search(page, library, "red OR")
    error = page.locator("#query-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("OR needs a term after it")
    expect(error.locator("mark")).to_have_text("O")
    expect(page.locator("#query")).to_have_attribute("aria-invalid", "true")
    # the library listed before the query had a next page: it must not be appended under the
    # query's name once the page is idle again
    page.wait_for_load_state("networkidle")
    expect(page.locator("#status")).to_contain_text("does not read")
    expect(page.locator("#results li")).to_have_count(0)
    page.fill("#query", "red")
    page.press("#query", "Enter")
    expect(error).to_be_hidden()


def test_the_page_refines_a_search_with_not_this_and_more_like_these(
    page: Page, library: Library
) -> None:
    open_search(page, library, "red")
    cards = page.locator("#results li")
    expect(page.locator("#status")).to_contain_text("images for “red”")
    expect(cards).to_have_count(len(LIBRARY))
    first = cards.first.get_attribute("data-id")
    cards.first.locator(".unlike").click()
    expect(page.locator("#status")).to_contain_text("images for “red”, not like 1")
    expect(cards).to_have_count(len(LIBRARY) - 1)
    assert first not in cards.evaluate_all("cards => cards.map(c => c.dataset.id)")

    picked = [cards.nth(i).get_attribute("data-id") for i in range(2)]
    for i in range(2):
        cards.nth(i).locator(".select").check()
    page.click("#like-selected")
    expect(page.locator("#status")).to_contain_text("images for “red”, like 2 picked")
    expect(cards).to_have_count(len(LIBRARY) - 3)
    shown = cards.evaluate_all("cards => cards.map(c => c.dataset.id)")
    assert not set(picked) & set(shown) and first not in shown


def test_the_search_tips_say_what_the_box_understands(page: Page, library: Library) -> None:
    open_search(page, library, "lake")
    page.click("#query-help summary")
    expect(page.locator("#query-help")).to_contain_text("tag:dog")
    expect(page.locator("#query-help .needs-keywords")).to_be_visible()
    expect(page.locator("#query-help .needs-keywords-off")).to_be_hidden()
