"""Enrichment on the whole local stack: an indexed image is searchable at once, and its place
(from EXIF GPS) and the text in it follow on the enrichment queue, taken by a worker of its
own. Bad GPS gives no place and no error; the place is found by the box (place:) and by the
place filter, the text by its words and the parts of long ones; auto-tags come from the stored
vector and a user can take one away; facets count them; the page shows the place, the text,
the auto-tags and where it stands, and filters by a facet."""

import io
import os
import random
import re
import subprocess
import sys
import uuid

import httpx
import pytest
from PIL.TiffImagePlugin import IFDRational
from playwright.sync_api import Page, expect

from imagesearch_dev.localstack import Stack
from imagesearch_dev.training.scenes import Scene, render
from tests.support.images import dms, image_bytes, jpeg_with_gps, jpeg_with_sign
from tests.support.paths import ROOT
from tests.support.polling import enriched, eventually, finished_job

ENRICH_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def client(enriched: Stack) -> httpx.Client:
    return httpx.Client(base_url=enriched.settings.url("nginx"), timeout=60)


@pytest.fixture(scope="module")
def uploaded(client: httpx.Client) -> tuple[str, dict[str, str]]:
    """Three pictures under a tag of their own: taken in Lisbon, with a broken GPS record (a
    zero denominator), and without GPS."""
    tag = f"enrich-{uuid.uuid4().hex[:8]}"
    shade = tuple(int(uuid.uuid4().hex[i : i + 2], 16) for i in (0, 2, 4))
    files = {
        "lisbon.jpg": jpeg_with_gps(dms(38.7223), "N", dms(9.1393), "W", colour=shade),
        "broken-gps.jpg": jpeg_with_gps(
            (IFDRational(38, 0), IFDRational(0), IFDRational(0)), "N", dms(9.0), "W", colour=shade,
            size=(60, 40),
        ),
        "no-gps.jpg": image_bytes(shade, fmt="JPEG", size=(50, 40)),
        # a shop sign, photographed in Lisbon
        "sign.jpg": jpeg_with_sign("CAFEROMA OPEN 24H", gps=(38.7139, -9.1334), colour=shade),
    }  # fmt: skip
    return tag, upload_indexed(client, files, tag, "image/jpeg")


def upload_indexed(
    client: httpx.Client, files: dict[str, bytes], tag: str, content_type: str
) -> dict[str, str]:
    """Upload under a tag, wait until indexed: each file's id by its name."""
    upload = client.post(
        "/api/v1/images",
        files=[("files", (name, data, content_type)) for name, data in files.items()],
        data={"tags": tag},
    )
    assert upload.status_code in (200, 202), upload.text
    body = upload.json()
    assert finished_job(client, body["job_id"])["state"] == "indexed"
    return {item["filename"]: item["id"] for item in body["items"]}


@pytest.fixture(scope="module")
def settled(
    client: httpx.Client, uploaded: tuple[str, dict[str, str]]
) -> tuple[str, dict[str, str]]:
    """The upload once every enrichment of every picture has run."""
    for image_id in uploaded[1].values():
        enriched(client, image_id, ENRICH_TIMEOUT_S)
    return uploaded


def test_the_place_is_read_from_gps_and_bad_gps_is_no_place(
    client: httpx.Client, uploaded: tuple[str, dict[str, str]]
) -> None:
    _, ids = uploaded
    lisbon = enriched(client, ids["lisbon.jpg"])
    assert lisbon["state"] == "indexed"
    assert lisbon["enrichment"]["place"] == {"state": "done", "reason": None}
    assert lisbon["metadata"]["country_code"] == "PT"
    assert lisbon["metadata"]["place"].endswith("Lisbon, Portugal")
    for name in ("broken-gps.jpg", "no-gps.jpg"):
        status = enriched(client, ids[name])
        assert status["state"] == "indexed"
        assert status["enrichment"]["place"] == {"state": "skipped", "reason": "no GPS position"}
        assert not status["metadata"].get("place")
        assert status["enrichment"]["ocr"] == {"state": "skipped", "reason": "no text found"}


def test_the_text_in_a_picture_is_read_with_its_boxes_and_found_by_its_words(
    client: httpx.Client, uploaded: tuple[str, dict[str, str]]
) -> None:
    tag, ids = uploaded
    status = enriched(client, ids["sign.jpg"])
    assert status["enrichment"]["ocr"] == {"state": "done", "reason": None}
    lines = status["metadata"]["ocr"]
    assert any("CAFEROMA" in line["text"] for line in lines)
    assert all(0 <= v <= 1 for line in lines for v in line["box"])
    for query in ("caferoma", "roma", "text:open"):
        response = client.get(
            "/api/v1/image/search", params={"tags": tag, "text": query, "cutoff": "none"}
        )
        first = response.json()["items"][0]
        assert first["id"] == ids["sign.jpg"], query
        assert {m["field"] for m in first["matched"]} >= {"text"}


def test_facets_count_the_places_and_tags_of_a_search_and_of_the_library(
    client: httpx.Client, settled: tuple[str, dict[str, str]]
) -> None:
    tag, _ = settled
    library = client.get("/api/v1/facets", params={"tags": tag}).json()
    assert (library["counted"], library["complete"]) == (4, True)
    assert {"value": "Portugal", "count": 2} in library["countries"]
    assert {"value": tag, "count": 4} in library["tags"]
    query = client.get("/api/v1/facets", params={"tags": tag, "text": "place:portugal"}).json()
    assert query["counted"] == 2 and query["countries"] == [{"value": "Portugal", "count": 2}]
    refused = client.get("/api/v1/facets", params={"tags": tag, "text": "red OR"})
    assert refused.status_code == 422 and refused.json()["error"] == "bad_query"


def test_the_box_and_the_filter_find_a_place(
    client: httpx.Client, uploaded: tuple[str, dict[str, str]]
) -> None:
    tag, ids = uploaded
    for name in ("lisbon.jpg", "sign.jpg"):  # both asserted on: neither row rewritten meanwhile
        enriched(client, ids[name])

    def search(**params: str) -> list[str]:
        response = client.get("/api/v1/image/search", params={"tags": tag, **params})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    in_lisbon = {ids["lisbon.jpg"], ids["sign.jpg"]}

    def found_by_words() -> list[str] | None:
        hits = search(text="place:lisbon", cutoff="none")
        return hits if set(hits) == in_lisbon else None

    eventually(found_by_words, ENRICH_TIMEOUT_S, "place:lisbon finding the pictures")
    assert set(search(text="portugal", place="Portugal")) == in_lisbon
    assert set(search(text="a picture", place="PT")) == in_lisbon
    assert search(text="a picture", place="Spain") == []
    browse = client.get("/api/v1/images", params={"tags": tag, "place": "Lisbon"})
    assert {item["id"] for item in browse.json()["items"]} == in_lisbon
    assert all(item["place"].endswith("Portugal") for item in browse.json()["items"])


def test_enrichment_runs_on_its_own_workers_and_its_backlog_empties(
    enriched: Stack, client: httpx.Client, settled: tuple[str, dict[str, str]]
) -> None:
    eventually(
        lambda: client.get("/api/v1/stats").json()["enrichment_backlog"] == 0,
        ENRICH_TIMEOUT_S,
        "the enrichment backlog emptying",
    )
    enricher_log = enriched.table.log_path("enricher").read_text(errors="replace")
    worker_log = enriched.table.log_path("worker").read_text(errors="replace")
    assert "images_enriched" in enricher_log
    assert "images_enriched" not in worker_log  # the index worker never takes its queue


def test_the_page_shows_place_text_and_facets_and_filters_by_a_facet(
    page: Page, client: httpx.Client, settled: tuple[str, dict[str, str]]
) -> None:
    tag, ids = settled

    def text_found() -> bool:
        # search reads within Milvus's consistency window: the enriched row shows soon after
        params = {"tags": tag, "text": "caferoma", "cutoff": "none"}
        items = client.get("/api/v1/image/search", params=params).json()["items"]
        return bool(items) and any(m["field"] == "text" for m in items[0]["matched"])

    eventually(text_found, ENRICH_TIMEOUT_S, "search finding the text read in the sign")
    page.goto("/")
    page.click("#filters summary")
    page.fill("input[name='tags']", tag)
    page.uncheck("input[name='cutoff']")
    page.fill("#query", "caferoma")
    page.press("#query", "Enter")
    cards = page.locator("#results li")
    expect(page.locator("#status")).to_contain_text(re.compile("images? for “caferoma”"))
    # every search the filters' changes started has answered: none re-renders under the click
    page.wait_for_load_state("networkidle")
    expect(cards.first).to_have_attribute("data-id", ids["sign.jpg"])
    cards.first.locator(".open").click()
    meta = page.locator("#lightbox-meta")
    expect(meta).to_contain_text("Lisbon, Portugal")
    read = meta.locator("dt:text-is('Text in the picture') + dd")
    expect(read).to_contain_text("OPEN 24H")
    expect(read.locator("mark")).to_have_text("CAFEROMA")
    expect(page.locator("#text-boxes span").first).to_be_attached()
    expect(meta).to_contain_text("text in the picture: done")
    page.click("#lightbox-close")

    # the tag's library: its facets, and a click on a country keeps its pictures only
    page.fill("#query", "")  # an emptied box goes back to the library
    expect(page.locator("#status")).to_contain_text("in your library")
    facets = page.locator("#facets")
    expect(facets.locator("button", has_text="Portugal (2)")).to_be_visible()
    facets.locator("button", has_text="Portugal (2)").click()
    expect(page.locator("input[name='place']")).to_have_value("Portugal")
    expect(cards).to_have_count(2)


def scene_png(scene: Scene, seed: int) -> bytes:
    """One of the offline model's scenes, one corner pixel unique to this run (a new image)."""
    picture = render(scene, 640, random.Random(seed))
    picture.putpixel((0, 0), tuple(int(uuid.uuid4().hex[i : i + 2], 16) for i in (0, 2, 4)))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def auto_tagged(client: httpx.Client) -> tuple[str, dict[str, str]]:
    """A purple star and a yellow one, enriched. The offline model's calibration
    (shared/models/tiny-clip/auto_tags.json) gives "purple" to the first (margin ~0.3) and
    nothing to the second (it calibrated no tag for yellow)."""
    tag = f"autotag-{uuid.uuid4().hex[:8]}"
    files = {
        "violet.png": scene_png(Scene("purple", "star", "large", 1, "centre", "black"), 1),
        "sun.png": scene_png(Scene("yellow", "star", "large", 1, "centre", "white"), 0),
    }
    ids = upload_indexed(client, files, tag, "image/png")
    for image_id in ids.values():
        enriched(client, image_id, ENRICH_TIMEOUT_S)
    return tag, ids


def test_auto_tags_come_from_the_vector_and_are_found_filtered_and_counted(
    client: httpx.Client, auto_tagged: tuple[str, dict[str, str]]
) -> None:
    tag, ids = auto_tagged
    violet = client.get(f"/api/v1/images/{ids['violet.png']}").json()
    assert violet["enrichment"]["tags"] == {"state": "done", "reason": None}
    assert violet["metadata"]["auto_tags"] == ["purple"]
    assert violet["metadata"]["tags"] == [tag]  # the user's own, apart
    sun = client.get(f"/api/v1/images/{ids['sun.png']}").json()
    assert sun["enrichment"]["tags"]["state"] == "done" and sun["metadata"]["auto_tags"] == []

    def search(**params: str) -> list[str]:
        response = client.get("/api/v1/image/search", params={"tags": tag, **params})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    eventually(
        lambda: search(text="autotag:purple", cutoff="none") == [ids["violet.png"]],
        ENRICH_TIMEOUT_S,
        "autotag:purple finding the purple star",
    )
    assert search(text="tag:purple", cutoff="none") == []  # not a tag the user gave
    assert search(text="a star", auto_tags="purple", cutoff="none") == [ids["violet.png"]]
    browse = client.get("/api/v1/images", params={"tags": tag, "auto_tags": "purple"}).json()
    assert [item["id"] for item in browse["items"]] == [ids["violet.png"]]
    assert browse["items"][0]["auto_tags"] == ["purple"]
    facets = client.get("/api/v1/facets", params={"tags": tag}).json()
    assert facets["auto_tags"] == [{"value": "purple", "count": 1}]


def test_an_auto_tag_taken_away_is_gone_from_search_and_kept_away(
    client: httpx.Client, auto_tagged: tuple[str, dict[str, str]]
) -> None:
    tag, ids = auto_tagged
    violet = ids["violet.png"]
    for bad in (["x" * 65], ["a\x00b"], [str(n) for n in range(33)], 7):
        refused = client.patch(f"/api/v1/images/{violet}", json={"removed_auto_tags": bad})
        assert refused.status_code == 422 and refused.json()["detail"], bad
    edited = client.patch(f"/api/v1/images/{violet}", json={"removed_auto_tags": ["purple"]})
    assert edited.status_code == 200, edited.text
    assert edited.json()["metadata"]["auto_tags"] == []
    status = client.get(f"/api/v1/images/{violet}").json()
    assert status["metadata"]["removed_auto_tags"] == ["purple"]
    browse = client.get("/api/v1/images", params={"tags": tag, "auto_tags": "purple"}).json()
    assert browse["items"] == []
    assert client.get("/api/v1/facets", params={"tags": tag}).json()["auto_tags"] == []


def test_tags_run_again_on_the_library_keep_a_removed_tag_away(
    enriched: Stack, client: httpx.Client, auto_tagged: tuple[str, dict[str, str]]
) -> None:
    """As after a new calibration: `reconcile --enrich-again tags` tags every indexed image
    again, the other enrichments untouched; the purple star the user said is not purple stays
    untagged (the test before took the tag away)."""
    _, ids = auto_tagged
    before = client.get(f"/api/v1/images/{ids['violet.png']}").json()
    assert before["metadata"]["removed_auto_tags"] == ["purple"]
    env = {**os.environ, **enriched.service_env()}
    argv = [sys.executable, "-m", "ingestworker.cli.reconcile", "--enrich-again", "tags"]
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "queued" in proc.stdout and "for tags again" in proc.stdout
    eventually(
        lambda: client.get("/api/v1/stats").json()["enrichment_backlog"] == 0,
        ENRICH_TIMEOUT_S,
        "the tags run again on the library",
    )
    violet = client.get(f"/api/v1/images/{ids['violet.png']}").json()
    assert (violet["metadata"]["auto_tags"], violet["enrichment"]["tags"]["state"]) == ([], "done")
    assert violet["enrichment"]["place"] == before["enrichment"]["place"]
    bad = subprocess.run(
        [*argv[:-1], "colour"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_the_lightbox_shows_auto_tags_and_one_can_be_taken_away(
    page: Page, client: httpx.Client
) -> None:
    tag = f"autotag-page-{uuid.uuid4().hex[:8]}"
    data = scene_png(Scene("purple", "star", "large", 1, "centre", "black"), 2)
    image_id = upload_indexed(client, {"plum.png": data}, tag, "image/png")["plum.png"]
    assert enriched(client, image_id, ENRICH_TIMEOUT_S)["metadata"]["auto_tags"] == ["purple"]
    page.goto("/")
    page.click("#filters summary")
    page.fill("input[name='tags']", tag)
    page.fill("input[name='auto_tags']", "purple")
    page.dispatch_event("#filters", "change")
    cards = page.locator("#results li")
    expect(cards).to_have_count(1)
    cards.first.locator(".open").click()
    chips = page.locator("#lightbox-meta .auto-tags .chip")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("purple")
    page.click("button[aria-label='remove auto-tag purple']")
    expect(page.locator("#edit-status")).to_have_text("Removed purple")
    expect(chips).to_have_count(0)
    after = client.get(f"/api/v1/images/{image_id}").json()["metadata"]
    assert (after["auto_tags"], after["removed_auto_tags"]) == ([], ["purple"])
