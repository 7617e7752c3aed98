"""The page in a real browser (Debian's headless chromium, driven by Playwright) against the
whole local stack: upload, text search, lightbox, similar, search by a dropped picture."""

import random
import re
import time
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from imagesearch_dev.localstack import Stack
from imagesearch_dev.screenshots import take
from imagesearch_dev.training.scenes import Scene, render
from tests.support.images import image_bytes
from tests.support.polling import eventually, finished_job
from tests.support.stack import API_KEY

SCENES = [
    Scene("red", "circle", "large", 1, "centre", "white"),
    Scene("blue", "square", "large", 1, "centre", "white"),
    Scene("green", "triangle", "small", 3, "centre", "black"),
    Scene("yellow", "star", "large", 1, "left", "grey"),
    Scene("purple", "cross", "large", 1, "right", "black"),
]
INDEXED_TIMEOUT_MS = 120_000


KEY = {"X-API-Key": API_KEY}
ALL_THUMBNAILS_LOADED = (
    "[...document.querySelectorAll('#results img')].every(i => i.complete && i.naturalWidth)"
)
LIGHTBOX_IMAGE_LOADED = "document.getElementById('lightbox-image').naturalWidth > 0"


def page_holds(page: Page, expression: str, what: str, timeout_s: float = 30) -> None:
    """Polls a JavaScript expression from outside the page: the page's CSP forbids the string
    evaluation inside it that wait_for_function would need."""
    eventually(lambda: page.evaluate(expression), timeout_s, what)


def scene_files(folder: Path) -> list[Path]:
    rng = random.Random(time.time_ns())
    paths = []
    for scene in SCENES:
        path = folder / f"{scene.caption}.png"
        render(scene, 256, rng).save(path, format="PNG")
        paths.append(path)
    return paths


def test_upload_search_lightbox_similar_and_drop(
    page: Page, full_stack: Stack, tmp_path: Path
) -> None:
    files = scene_files(tmp_path)
    run_tag = f"page-{uuid.uuid4().hex[:8]}"
    page.goto("/")
    # the library timeline (empty on a fresh stack)
    expect(page.locator("#status")).to_contain_text(re.compile("in your library|No images here"))

    # upload five images through the dialog and wait until each says indexed
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload")).to_be_visible()
    page.fill("#upload-tags", run_tag)
    page.set_input_files("#upload-files", [str(p) for p in files])
    page.wait_for_selector("#upload[data-done='true']", timeout=INDEXED_TIMEOUT_MS)
    states = page.locator("#upload-list li").evaluate_all("rows => rows.map(r => r.dataset.state)")
    assert states == ["indexed"] * len(files)
    expect(page.locator("#upload-summary")).to_contain_text("5 accepted")
    page.click("#upload-close")

    # text search, narrowed to this run's images
    page.click("#filters summary")
    page.fill("input[name='tags']", run_tag)
    page.uncheck("input[name='cutoff']")
    page.fill("#query", SCENES[0].caption)
    page.press("#query", "Enter")
    cards = page.locator("#results li")
    expect(cards).to_have_count(len(files))
    expect(cards.first.locator(".caption")).to_contain_text(f"{SCENES[0].caption}.png")
    expect(page.locator("#status")).to_contain_text("5 images")
    expect(page.locator("#more")).to_be_hidden()  # every result is on the page
    # every thumbnail arrived (through nginx, from cdnapi)
    page_holds(page, ALL_THUMBNAILS_LOADED, "every thumbnail loaded")
    shots = full_stack.run_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "results.png"), full_page=True)

    # the lightbox, opened from the keyboard
    first_id = cards.first.get_attribute("data-id")
    cards.first.locator(".open").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#lightbox")).to_be_visible()
    expect(page.locator("#lightbox-title")).to_have_text(f"{SCENES[0].caption}.png")
    expect(page.locator("#lightbox-download")).to_have_attribute("href", f"/images/{first_id}")
    expect(page.locator("#lightbox-meta")).to_contain_text(run_tag)
    page_holds(page, LIGHTBOX_IMAGE_LOADED, "the lightbox image loaded")

    # more like this, from the lightbox: the image itself is not among them
    page.click("#lightbox-similar")
    expect(page.locator("#lightbox")).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("similar to")
    expect(cards).to_have_count(len(files) - 1)
    assert first_id not in cards.evaluate_all("cards => cards.map(c => c.dataset.id)")

    # a picture dropped on the page searches with it: the same image comes first
    dropped = files[3].read_bytes()
    transfer = page.evaluate_handle(
        """bytes => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], 'query.png', {type: 'image/png'}));
            return transfer;
        }""",
        list(dropped),
    )
    page.dispatch_event("#main", "drop", {"dataTransfer": transfer})
    expect(page.locator("#status")).to_contain_text("the picture query.png")
    expect(cards.first.locator(".caption")).to_contain_text(f"{SCENES[3].caption}.png")


def test_empty_and_error_states_say_what_happened(page: Page) -> None:
    page.goto("/")
    page.click("#filters summary")
    page.fill("input[name='tags']", f"nothing-{uuid.uuid4().hex}")
    page.fill("#query", "anything at all")  # results come as you type: no Enter
    expect(page.locator("#status")).to_contain_text("Nothing found")
    page.fill("input[name='taken_from']", "2024-05-01")
    page.fill("input[name='taken_to']", "2024-01-01")
    page.press("#query", "Enter")
    expect(page.locator("#status")).to_contain_text("Search failed")
    expect(page.locator("#status")).to_contain_text("taken_from is after taken_to")


def test_the_page_fits_a_phone(browser: Browser, full_stack: Stack) -> None:
    context = browser.new_context(
        base_url=full_stack.settings.url("nginx"),
        viewport={"width": 375, "height": 740},
        is_mobile=True,
    )
    page = context.new_page()
    page.goto("/")
    page.fill("#query", "a red circle")
    page.press("#query", "Enter")
    expect(page.locator("#status")).not_to_contain_text("Searching")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    context.close()


def test_with_keys_the_page_asks_for_one_and_shows_signed_images(
    browser: Browser, keyed_stack: Stack
) -> None:
    site = httpx.Client(base_url=keyed_stack.settings.url("nginx"), headers=KEY, timeout=30)
    run_tag = f"keyed-{uuid.uuid4().hex[:8]}"
    data = image_bytes((time.time_ns() % 250, 99, 31), fmt="PNG")
    upload = site.post("/api/v1/images", files=[("files", ("k.png", data))], data={"tags": run_tag})
    assert upload.status_code == 202, upload.text
    assert finished_job(site, upload.json()["job_id"])["state"] == "indexed"

    context = browser.new_context(base_url=keyed_stack.settings.url("nginx"))
    page = context.new_page()
    try:
        page.goto("/?q=square")
        expect(page.locator("#key-dialog")).to_be_visible()  # the search got a 401
        page.fill("#api-key", API_KEY)
        page.click("#key-save")
        cards = page.locator("#results li")
        expect(cards.first).to_be_visible()
        # the thumbnails are signed URLs: <img> sends no key, nginx checks the signature
        page_holds(page, ALL_THUMBNAILS_LOADED, "every thumbnail loaded")
        src = cards.first.locator("img").get_attribute("src") or ""
        assert "sig=" in src and "exp=" in src
        cards.first.locator(".open").click()
        page_holds(page, LIGHTBOX_IMAGE_LOADED, "the lightbox image loaded")
    finally:
        context.close()


def test_the_page_says_which_model_answers_and_offers_queries_it_understands(page: Page) -> None:
    page.goto("/")
    line = page.locator("#model-line")
    expect(line).to_contain_text("tiny-clip")
    expect(line).to_contain_text("128-d")
    note = page.locator("#model-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("only coloured shapes")
    expect(page.locator("#query")).to_have_attribute(
        "placeholder", "a purple star, two large red circles"
    )
    note.get_by_role("button", name="a purple star").click()
    expect(page.locator("#query")).to_have_value("a purple star")
    expect(page.locator("#status")).to_contain_text("a purple star")


def test_make_screenshots_takes_the_timeline_a_search_and_the_lightbox(
    page: Page, tmp_path: Path
) -> None:
    shots = take(page, "three small yellow stars", tmp_path)
    assert [s.name for s in shots] == ["timeline.png", "search.png", "lightbox.png"]
    pictures = [s.read_bytes() for s in shots]
    assert all(p.startswith(b"\x89PNG") and len(p) > 10_000 for p in pictures)
    assert len(set(pictures)) == 3  # three different views
