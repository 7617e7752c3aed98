"""Duplicates in tiers through nginx, as the real worker files them: a photo, a smaller,
cropped, re-encoded copy of it without its EXIF, a burst frame taken two seconds later, and
another photo."""

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from skimage import data

from imagesearch_dev.localstack import Stack
from tests.support.images import dated_jpeg
from tests.support.polling import finished_job

TAKEN = 1_700_000_000


@pytest.fixture(scope="module")
def api(full_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def library(api: httpx.Client) -> dict[str, str]:
    """The four images' ids by role, and their tag."""
    tag = f"dup{uuid.uuid4().hex[:8]}"
    photo = Image.fromarray(np.asarray(data.coffee())).convert("RGB")
    # a mark of this run's own, or another run's upload would be the same bytes
    photo.paste(tuple(uuid.uuid4().bytes[:3]), (0, 0, 3, 3))
    w, h = photo.size
    copy = photo.crop((int(w * 0.05), 0, w, int(h * 0.96))).resize((w // 2, h // 2))
    burst = photo.crop((int(w * 0.25), 0, w, h))
    other = Image.fromarray(np.asarray(data.astronaut())).convert("RGB")
    files = {
        "photo.jpg": dated_jpeg(photo, 92, TAKEN),
        "copy.jpg": dated_jpeg(copy, 45, None),
        "burst.jpg": dated_jpeg(burst, 90, TAKEN + 2),
        "other.jpg": dated_jpeg(other, 90, TAKEN + 1),
    }
    ids: dict[str, str] = {"tag": tag}
    # the photo first: the copy is filed under it
    for batch in (["photo.jpg"], ["copy.jpg", "burst.jpg", "other.jpg"]):
        sent = [("files", (name, files[name], "image/jpeg")) for name in batch]
        response = api.post("/api/v1/images", files=sent, data={"tags": tag})
        assert response.status_code == 202, response.text
        assert finished_job(api, response.json()["job_id"])["state"] == "indexed"
        for item in response.json()["items"]:
            ids[item["filename"].removesuffix(".jpg")] = item["id"]
    return ids


def tiers(api: httpx.Client, image_id: str) -> dict[str, str]:
    response = api.get(f"/api/v1/images/{image_id}/duplicates")
    assert response.status_code == 200, response.text
    return {item["id"]: item["tier"] for item in response.json()["items"]}


def listed(api: httpx.Client, url: str, **params: Any) -> dict[str, int]:
    response = api.get(url, params=params)
    assert response.status_code == 200, response.text
    return {item["id"]: item["duplicates"] for item in response.json()["items"]}


def test_each_image_knows_its_copies_and_its_burst(
    api: httpx.Client, library: dict[str, str]
) -> None:
    photo, copy, burst = library["photo"], library["copy"], library["burst"]
    assert tiers(api, photo) == {copy: "same_picture", burst: "similar_shot"}
    # the copy lost its date: a copy of the photo, no shot of anything
    assert tiers(api, copy) == {photo: "same_picture"}
    assert tiers(api, burst) == {photo: "similar_shot"}
    assert tiers(api, library["other"]) == {}
    assert api.get(f"/api/v1/images/{'0' * 64}/duplicates").status_code == 404


def test_search_and_the_timeline_fold_the_copy_into_the_photo(
    api: httpx.Client, library: dict[str, str]
) -> None:
    tag, photo, copy = library["tag"], library["photo"], library["copy"]
    search = {"text": "a cup of coffee", "tags": tag, "limit": 50}
    folded = listed(api, "/api/v1/image/search", **search)
    assert (len(folded) == 3 and copy not in folded) or photo not in folded
    shown = photo if photo in folded else copy
    assert folded[shown] == 1
    assert listed(api, "/api/v1/image/search", **search, collapse="false") == {
        library[k]: 0 for k in ("photo", "copy", "burst", "other")
    }
    timeline = listed(api, "/api/v1/images", tags=tag)
    assert timeline == {photo: 1, library["burst"]: 0, library["other"]: 0}
    assert len(listed(api, "/api/v1/images", tags=tag, collapse="false")) == 4


def test_groups_across_the_library_then_deleting_the_extra(
    api: httpx.Client, library: dict[str, str]
) -> None:
    photo, copy = library["photo"], library["copy"]

    def groups(tier: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        url: str | None = f"/api/v1/duplicates?tier={tier}&limit=2"
        while url:
            body = api.get(url).json()
            found.update({g["key"]: [i["id"] for i in g["items"]] for g in body["groups"]})
            url = body["next"]
        return found

    # best first: the photo has more pixels than its copy
    assert groups("same_picture")[photo] == [photo, copy]
    assert sorted(groups("similar_shot")[photo]) == sorted([photo, library["burst"]])
    assert api.get("/api/v1/duplicates", params={"tier": "nope"}).status_code == 422

    assert api.delete(f"/api/v1/images/{copy}").status_code == 204
    assert photo not in groups("same_picture")
    assert tiers(api, photo) == {library["burst"]: "similar_shot"}
    assert listed(api, "/api/v1/images", tags=library["tag"])[photo] == 0
