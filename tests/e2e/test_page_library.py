"""The page as a library, in a real browser: it opens on the timeline with the counts, scrolls
for more, edits and deletes from the lightbox, deletes a selection, and shows copies of a
picture side by side to delete the extras."""

import io
import uuid

import httpx
import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect
from skimage import data

from imagesearch_dev.localstack import Stack
from tests.support.images import image_bytes
from tests.support.polling import finished_job

PAGE_SIZE = 40  # the page's own (frontend/js/app.js)


def upload(stack: Stack, count: int, tag: str) -> list[str]:
    """Images named img-<n>.jpg, one request each."""
    ids = []
    with httpx.Client(base_url=stack.settings.url("nginx"), timeout=60) as api:
        for n in range(count):
            data = image_bytes(tuple(uuid.uuid4().bytes[:3]), fmt="JPEG", size=(64, 48))
            files = [("files", (f"img-{n}.jpg", data, "image/jpeg"))]
            response = api.post("/api/v1/images", files=files, data={"tags": tag})
            assert response.status_code == 202, response.text
            ids.append(response.json()["items"][0]["id"])
            last_job = response.json()["job_id"]
        assert finished_job(api, last_job)["state"] == "indexed"
    return ids


def status_of(stack: Stack, image_id: str) -> int:
    return httpx.get(f"{stack.settings.url('nginx')}/api/v1/images/{image_id}").status_code


def only_tag(page: Page, tag: str) -> None:
    page.click("#filters summary")
    page.fill("input[name='tags']", tag)
    page.press("input[name='tags']", "Tab")  # the change event: the timeline reloads


def card_ids(page: Page) -> list[str]:
    ids: list[str] = page.locator("#results li").evaluate_all(
        "cards => cards.map(c => c.dataset.id)"
    )
    return ids


def test_the_page_opens_on_the_timeline_with_the_counts(page: Page, full_stack: Stack) -> None:
    tag = f"tl{uuid.uuid4().hex[:8]}"
    ids = upload(full_stack, 3, tag)
    page.goto("/")
    expect(page.locator("#status")).to_contain_text("in your library")
    expect(page.locator("#counts")).to_contain_text("images")
    only_tag(page, tag)
    expect(page.locator("#status")).to_contain_text("3 images in your library")
    cards = page.locator("#results li")
    expect(cards).to_have_count(3)
    # (newest first, by the second: these three share theirs; tests/integration/test_browse)
    assert sorted(card_ids(page)) == sorted(ids)
    expect(cards.first.locator(".score")).to_have_count(0)  # a timeline has no scores


def test_the_timeline_loads_the_next_page_on_scroll(page: Page, full_stack: Stack) -> None:
    tag = f"sc{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60) as api:
        files = [
            ("files", (f"s{n}.jpg", image_bytes(tuple(uuid.uuid4().bytes[:3]), fmt="JPEG"), "x"))
            for n in range(PAGE_SIZE + 5)
        ]
        response = api.post("/api/v1/images", files=files, data={"tags": tag})
        assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
    page.goto("/")
    only_tag(page, tag)
    cards = page.locator("#results li")
    expect(cards).to_have_count(PAGE_SIZE)
    page.locator("#sentinel").scroll_into_view_if_needed()
    expect(cards).to_have_count(PAGE_SIZE + 5)
    assert len(set(card_ids(page))) == PAGE_SIZE + 5


def test_the_lightbox_edits_tags_and_caption_and_deletes(page: Page, full_stack: Stack) -> None:
    tag = f"lb{uuid.uuid4().hex[:8]}"
    ids = upload(full_stack, 2, tag)
    page.goto("/")
    only_tag(page, tag)
    cards = page.locator("#results li")
    expect(cards).to_have_count(2)
    opened = cards.first.get_attribute("data-id")
    [kept] = [i for i in ids if i != opened]
    cards.first.locator(".open").click()
    expect(page.locator("#lightbox")).to_be_visible()
    name = page.locator("#lightbox-title").text_content() or ""

    page.fill("#edit-caption", "Harbour at dusk")
    page.fill("#edit-tags", f"{tag}, harbour")
    page.click("#edit-save")
    expect(page.locator("#edit-status")).to_have_text("Saved")
    expect(page.locator("#lightbox-meta")).to_contain_text("harbour")
    expect(page.locator("#lightbox-meta")).to_contain_text("Harbour at dusk")
    metadata = httpx.get(f"{full_stack.settings.url('nginx')}/api/v1/images/{opened}").json()
    assert metadata["metadata"]["tags"] == [tag, "harbour"]
    assert metadata["metadata"]["caption"] == "Harbour at dusk"

    # a delete asks first; cancelling keeps the image
    page.click("#lightbox-delete")
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text(name)
    page.click("#confirm-no")
    expect(page.locator("#confirm")).to_be_hidden()
    assert status_of(full_stack, str(opened)) == 200

    page.click("#lightbox-delete")
    page.click("#confirm-yes")
    expect(page.locator("#lightbox")).to_be_hidden()
    expect(cards).to_have_count(1)
    assert card_ids(page) == [kept]
    assert status_of(full_stack, str(opened)) == 404
    expect(page.locator("#status")).to_contain_text(f"Deleted {name}")


def test_a_selection_is_deleted_at_once(page: Page, full_stack: Stack) -> None:
    tag = f"ms{uuid.uuid4().hex[:8]}"
    ids = upload(full_stack, 3, tag)
    page.goto("/")
    only_tag(page, tag)
    cards = page.locator("#results li")
    expect(cards).to_have_count(3)
    expect(page.locator("#selection")).to_be_hidden()
    page.get_by_label("select img-0.jpg").check()
    page.get_by_label("select img-2.jpg").check()
    expect(page.locator("#selection-count")).to_have_text("2 selected")
    page.click("#delete-selected")
    expect(page.locator("#confirm-text")).to_contain_text("these 2 images")
    page.click("#confirm-yes")
    expect(cards).to_have_count(1)
    assert card_ids(page) == [ids[1]]
    expect(page.locator("#selection")).to_be_hidden()
    assert [status_of(full_stack, i) for i in ids] == [404, 200, 404]
    # the timeline from the server agrees
    page.reload()
    only_tag(page, tag)
    expect(page.locator("#status")).to_contain_text("1 image in your library")


def test_the_duplicates_view_deletes_the_extras_and_keeps_the_best(
    page: Page, full_stack: Stack
) -> None:
    tag = f"dv{uuid.uuid4().hex[:8]}"
    photo = Image.fromarray(np.asarray(data.rocket())).convert("RGB")
    w, h = photo.size
    photo.paste(tuple(uuid.uuid4().bytes[:3]), (w - 4, h - 4, w, h))  # this run's own bytes
    copy = photo.crop((w // 25, h // 25, w, h)).resize((w // 2, h // 2))
    with httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60) as api:
        ids = []
        for name, image, quality in (("rocket.jpg", photo, 92), ("rocket-small.jpg", copy, 50)):
            out = io.BytesIO()
            image.save(out, "JPEG", quality=quality)
            files = [("files", (name, out.getvalue(), "image/jpeg"))]
            response = api.post("/api/v1/images", files=files, data={"tags": tag})
            assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
            ids.append(response.json()["items"][0]["id"])
    best, extra = ids

    page.goto("/")
    only_tag(page, tag)
    cards = page.locator("#results li")
    expect(cards).to_have_count(1)  # the copy is folded into the photo
    expect(cards.first.locator(".copies")).to_have_text("+1")

    page.click("#open-duplicates")
    group = page.locator(f"#groups > li[data-key='{best}']")
    expect(group).to_be_visible()
    members = group.locator(".members li")
    expect(members).to_have_count(2)
    assert members.evaluate_all("m => m.map(x => x.dataset.id)") == [best, extra]
    expect(members.first).to_have_class("keep")
    group.locator(".delete-extras").click()
    expect(page.locator("#confirm-text")).to_contain_text("this copy")
    page.click("#confirm-yes")
    expect(group).to_have_count(0)
    assert [status_of(full_stack, i) for i in ids] == [200, 404]
