"""Search as users use it, through nginx, with the offline model: image queries, more like
this, every filter, cutoffs, paging and bad parameters. Each run tags its images with a tag of
its own, so the shared test stack's other images never get in the way."""

import io
import random
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import ExifTags, Image, PngImagePlugin

from imagesearch_dev.localstack import Stack
from imagesearch_dev.training.scenes import Scene, render
from tests.support.images import unique_seed
from tests.support.polling import finished_job
from tests.support.results import in_rank_order

SCENES = [
    Scene("red", "circle", "large", 1, "centre", "white"),
    Scene("blue", "square", "small", 1, "left", "black"),
    Scene("yellow", "star", "small", 3, "centre", "grey"),
    Scene("green", "triangle", "large", 1, "top", "white"),
    Scene("purple", "cross", "large", 2, "centre", "black"),
    Scene("orange", "circle", "small", 1, "right", "grey"),
]


@dataclass(frozen=True)
class Corpus:
    run_tag: str
    ids: dict[str, str]  # scene caption -> id
    photos: dict[str, bytes]  # scene caption -> uploaded bytes


def jpeg(img: Image.Image, taken: str | None = None, quality: int = 92) -> bytes:
    exif = Image.Exif()
    if taken:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, exif=exif)
    return buf.getvalue()


@pytest.fixture(scope="module")
def page(full_stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60)


@pytest.fixture(scope="module")
def corpus(page: httpx.Client) -> Corpus:
    """Six scenes: the first three from 'phone', 2021, tags beach+sea, 320 px; the rest from
    'camera', 2023, tag city, 200 px; all with this run's tag."""
    run_tag = f"run-{uuid.uuid4().hex[:8]}"
    rng = random.Random(unique_seed())
    ids, photos = {}, {}
    for group, (source, year, tags, size) in enumerate(
        [("phone", 2021, "beach,sea", 320), ("camera", 2023, "city", 200)]
    ):
        files = []
        for n, scene in enumerate(SCENES[group * 3 : group * 3 + 3]):
            data = jpeg(render(scene, size, rng), taken=f"{year}:0{n + 1}:15 10:00:00")
            photos[scene.caption] = data
            files.append(("files", (f"{scene.caption}.jpg", data, "image/jpeg")))
        upload = page.post(
            "/api/v1/images",
            files=files,
            data={"tags": f"{tags},{run_tag}", "source": source},
        ).json()
        assert finished_job(page, upload["job_id"])["state"] == "indexed"
        for item in upload["items"]:
            ids[item["filename"].removesuffix(".jpg")] = item["id"]
    return Corpus(run_tag, ids, photos)


def search(page: httpx.Client, **params: Any) -> dict[str, Any]:
    response = page.get("/api/v1/image/search", params={"limit": 50, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def ids_of(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["items"]]


def test_an_uploaded_image_finds_itself_first(page: httpx.Client, corpus: Corpus) -> None:
    caption = SCENES[3].caption
    body = page.post(
        "/api/v1/image/search",
        files={"file": ("q.jpg", corpus.photos[caption], "image/jpeg")},
        params={"limit": 5},
    ).json()
    assert body["items"][0]["id"] == corpus.ids[caption]
    assert body["items"][0]["score"] >= 0.99


def test_a_resized_reencoded_copy_finds_its_original(page: httpx.Client, corpus: Corpus) -> None:
    for scene in SCENES[:3]:
        original = Image.open(io.BytesIO(corpus.photos[scene.caption]))
        copy = original.resize((original.width * 2 // 3, original.height * 2 // 3))
        body = page.post(
            "/api/v1/image/search",
            files={"file": ("copy.png", jpeg(copy, quality=60), "image/jpeg")},
            params={"limit": 5, "tags": corpus.run_tag},
        ).json()
        assert body["items"][0]["id"] == corpus.ids[scene.caption], scene.caption


def test_similar_leaves_the_image_out_and_finds_its_kin(page: httpx.Client, corpus: Corpus) -> None:
    image_id = corpus.ids[SCENES[0].caption]
    body = page.get(f"/api/v1/images/{image_id}/similar", params={"tags": corpus.run_tag})
    assert body.status_code == 200
    found = ids_of(body.json())
    assert image_id not in found
    assert len(found) == len(SCENES) - 1
    assert page.get(f"/api/v1/images/{'0' * 64}/similar").status_code == 404


def test_each_filter_narrows_to_the_right_images(page: httpx.Client, corpus: Corpus) -> None:
    phone = {corpus.ids[s.caption] for s in SCENES[:3]}
    camera = {corpus.ids[s.caption] for s in SCENES[3:]}
    mine = {"text": "a shape", "tags": corpus.run_tag}
    assert set(ids_of(search(page, **mine))) == phone | camera
    assert set(ids_of(search(page, **mine, source="phone"))) == phone
    both = search(page, text="a shape", tags=f"{corpus.run_tag},beach", tags_mode="all")
    assert set(ids_of(both)) == phone
    assert set(ids_of(search(page, **mine, min_width=300))) == phone
    assert set(ids_of(search(page, **mine, min_height=300))) == phone
    assert set(ids_of(search(page, **mine, taken_from="2022-01-01"))) == camera
    assert set(ids_of(search(page, **mine, taken_to="2021-12-31"))) == phone
    first_of_2023 = search(page, **mine, taken_from="2023-01-01", taken_to="2023-01-31")
    assert ids_of(first_of_2023) == [corpus.ids[SCENES[3].caption]]
    assert ids_of(search(page, **mine, content_type="image/png")) == []
    assert set(ids_of(search(page, **mine, created_to="2000-01-01"))) == set()
    assert set(ids_of(search(page, **mine, created_from="2020-01-01"))) == phone | camera


def test_a_crafted_filter_value_is_only_a_value(page: httpx.Client, corpus: Corpus) -> None:
    crafted = 'phone" or source != "x'
    assert ids_of(search(page, text="a shape", tags=corpus.run_tag, source=crafted)) == []


def test_min_score_and_autocut_drop_the_tail(page: httpx.Client, corpus: Corpus) -> None:
    caption = SCENES[0].caption
    everything = search(page, text=caption, tags=corpus.run_tag)
    scores = sorted((item["score"] for item in everything["items"]), reverse=True)
    assert len(scores) == len(SCENES) and in_rank_order(everything["items"])
    threshold = (scores[0] + scores[-1]) / 2
    above = search(page, text=caption, tags=corpus.run_tag, min_score=threshold)
    assert 0 < len(above["items"]) < len(SCENES)
    assert all(item["score"] > threshold for item in above["items"])
    cut = search(page, text=caption, tags=corpus.run_tag, cutoff="auto")
    assert ids_of(cut)[0] == corpus.ids[caption]
    assert len(cut["items"]) < len(SCENES)


def test_sort_by_date_after_the_cutoff(page: httpx.Client, corpus: Corpus) -> None:
    body = search(page, text="a shape", tags=corpus.run_tag, sort="date")
    taken = [item["taken_at"] for item in body["items"]]
    assert taken == sorted(taken, reverse=True)
    assert body["items"][0]["id"] == corpus.ids[SCENES[5].caption]  # 2023-03-15, the newest


def test_pages_return_every_item_exactly_once(page: httpx.Client, corpus: Corpus) -> None:
    seen: list[str] = []
    response = page.get(
        "/api/v1/image/search", params={"text": "a shape", "tags": corpus.run_tag, "limit": 4}
    ).json()
    while True:
        seen += ids_of(response)
        if not response["next"]:
            break
        response = page.get(response["next"]).json()
    assert sorted(seen) == sorted(corpus.ids.values())
    item = response["items"][-1]
    assert item["thumbnail_url"] == f"/images/{item['id']}/thumbnail"
    thumbnail = page.get(item["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) <= 256


@pytest.mark.parametrize(
    "params",
    [
        {"text": "x", "limit": 0},
        {"text": "x", "offset": 990, "limit": 20},
        {"text": "x", "cutoff": "maybe"},
        {"text": "x", "taken_from": "yesterday"},
        {"text": "x", "content_type": "text/html"},
        {"text": "x", "min_score": 1.5},
    ],
)
def test_bad_parameters_are_422_with_a_reason(page: httpx.Client, params: dict[str, Any]) -> None:
    response = page.get("/api/v1/image/search", params=params)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_a_2000_character_query_is_read_up_to_the_models_context(
    page: httpx.Client, corpus: Corpus
) -> None:
    caption = SCENES[0].caption
    rambling = (caption + " and then some more words about it, ") * 40
    assert len(rambling) >= 2000
    body = search(page, text=rambling, tags=corpus.run_tag)
    assert ids_of(body)[0] == corpus.ids[caption]  # the first 77 tokens name the scene
    longer = search(page, text=rambling + " with a blue square", tags=corpus.run_tag)
    # past the context, nothing more is read: the same vector, the same scores
    assert [i["score"] for i in longer["items"]] == [i["score"] for i in body["items"]]


def test_paging_through_60_identical_images_returns_each_once(page: httpx.Client) -> None:
    """60 files with the same pixels (so the same vector and score) but different bytes."""
    tag = f"twins-{uuid.uuid4().hex[:8]}"
    pixels = render(SCENES[1], 120, random.Random(1))
    files = []
    for n in range(60):
        buf = io.BytesIO()
        pixels.save(buf, format="PNG", pnginfo=_text_chunk(f"copy {n} of {tag}"))
        files.append(("files", (f"twin-{n}.png", buf.getvalue(), "image/png")))
    upload = page.post("/api/v1/images", files=files, data={"tags": tag}).json()
    assert finished_job(page, upload["job_id"])["state"] == "indexed"
    seen: list[str] = []
    scores: set[float] = set()
    url: str | None = f"/api/v1/image/search?text=a+small+blue+square&tags={tag}&limit=7"
    while url:
        body = page.get(url).json()
        seen += ids_of(body)
        scores.update(item["score"] for item in body["items"])
        url = body["next"]
    assert len(scores) == 1  # one tie, across every page
    assert sorted(seen) == sorted(item["id"] for item in upload["items"])
    assert len(set(seen)) == 60


def _text_chunk(text: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return info
