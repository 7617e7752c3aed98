"""One upload all the way through the running stack, as a user sees it through nginx."""

import io
import random
import time

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from imagesearch_dev.training.scenes import Scene, render
from tests.support.bombs import many_entry_zip, png_claiming
from tests.support.images import image_bytes
from tests.support.polling import finished_job
from tests.support.results import in_rank_order


@pytest.fixture(scope="module")
def page(full_stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=30)


def test_upload_index_search_fetch_and_reupload(page: httpx.Client) -> None:
    nonce = time.time_ns() % 200
    images = {
        "red.jpg": (image_bytes((220, 20, nonce), fmt="JPEG"), "image/jpeg"),
        "green.png": (image_bytes((20, 200, nonce), fmt="PNG"), "image/png"),
        "blue.webp": (image_bytes((nonce, 30, 220), fmt="WEBP"), "image/webp"),
    }
    files = [
        ("files", (name, data, "application/octet-stream")) for name, (data, _) in images.items()
    ]
    upload = page.post("/api/v1/images", files=files)
    assert upload.status_code == 202, upload.text
    body = upload.json()
    ids = {item["filename"]: item["id"] for item in body["items"]}
    assert all(item["status"] == "accepted" for item in body["items"])

    job = finished_job(page, body["job_id"])
    assert job["state"] == "indexed", job

    found = page.get("/api/v1/image/search", params={"text": "a colourful square", "limit": 200})
    assert found.status_code == 200
    items = found.json()["items"]
    assert set(ids.values()) <= {item["id"] for item in items}
    assert in_rank_order(items)

    status = page.get(f"/api/v1/images/{ids['red.jpg']}").json()
    assert status["state"] == "indexed"
    assert (status["metadata"]["width"], status["metadata"]["filename"]) == (64, "red.jpg")
    assert page.get(f"/api/v1/images/{'0' * 64}").status_code == 404

    for name, (data, content_type) in images.items():
        image = page.get(f"/images/{ids[name]}")
        assert image.status_code == 200
        assert image.content == data
        assert image.headers["content-type"] == content_type

    again = page.post("/api/v1/images", files=[files[0]])
    assert again.status_code == 200
    assert again.json()["items"][0]["id"] == ids["red.jpg"]
    assert again.json()["items"][0]["status"] == "duplicate"


def test_the_page_and_unknown_images(page: httpx.Client) -> None:
    index = page.get("/")
    assert index.status_code == 200
    assert "Image Search" in index.text
    assert page.get(f"/images/{'0' * 64}").status_code == 404


def test_every_api_answers_healthz(full_stack: Stack) -> None:
    for name in ("ingestapi", "searchapi", "cdnapi"):
        response = httpx.get(f"{full_stack.settings.url(name)}/healthz")
        assert response.json() == {"status": "ok"}, name


def test_a_text_query_finds_the_described_image(page: httpx.Client) -> None:
    """With the offline model: a caption's attribute combination ranks its image in the top 3."""
    scenes = [
        Scene("red", "circle", "large", 1, "centre", "white"),
        Scene("blue", "square", "small", 1, "left", "black"),
        Scene("yellow", "star", "small", 3, "centre", "grey"),
        Scene("green", "triangle", "large", 1, "top", "white"),
        Scene("purple", "cross", "large", 2, "centre", "black"),
        Scene("red", "square", "large", 1, "right", "grey"),
    ]
    rng = random.Random(7)
    files = []
    for scene in scenes:
        buf = io.BytesIO()
        render(scene, 256, rng).save(buf, format="PNG")
        files.append(("files", (scene.caption + ".png", buf.getvalue(), "image/png")))
    upload = page.post("/api/v1/images", files=files).json()
    assert finished_job(page, upload["job_id"])["state"] == "indexed"
    ids = {item["filename"]: item["id"] for item in upload["items"]}

    for scene in scenes:
        found = page.get("/api/v1/image/search", params={"text": scene.caption, "limit": 3})
        top3 = [item["id"] for item in found.json()["items"]]
        assert ids[scene.caption + ".png"] in top3, scene.caption


def test_nginx_keeps_images_and_answers_without_cdnapi(
    page: httpx.Client, full_stack: Stack
) -> None:
    data = image_bytes((time.time_ns() % 250, 1, 2), fmt="PNG")
    upload = page.post("/api/v1/images", files=[("files", ("c.png", data, "image/png"))]).json()
    image_id = upload["items"][0]["id"]
    first = page.get(f"/images/{image_id}")
    assert (first.status_code, first.headers["x-cache-status"]) == (200, "MISS")
    second = page.get(f"/images/{image_id}")
    assert (second.headers["x-cache-status"], second.content) == ("HIT", data)
    full_stack.table.stop("cdnapi")
    try:
        cached = page.get(f"/images/{image_id}")
        assert (cached.status_code, cached.content) == (200, data)
        ranged = page.get(f"/images/{image_id}", headers={"Range": "bytes=0-7"})
        assert (ranged.status_code, ranged.content) == (206, data[:8])
        assert page.get(f"/images/{'1' * 64}").status_code == 502  # cdnapi is down
    finally:
        full_stack.up(["cdnapi"])


def test_nginx_answers_only_its_own_host_names(page: httpx.Client) -> None:
    # a page on another name that resolves to this machine (DNS rebinding) gets nothing
    assert page.get("/", headers={"Host": "attacker.example"}).status_code == 421
    rebound = page.get("/api/v1/image/search?text=cat", headers={"Host": "attacker.example"})
    assert rebound.status_code == 421
    assert page.get("/", headers={"Host": "localhost"}).status_code == 200
    # probes reach it by any name (the kubelet's Host is the pod's address)
    assert page.get("/healthz", headers={"Host": "10.244.1.7"}).status_code == 200


def test_without_keys_another_site_cannot_write(page: httpx.Client) -> None:
    files = [("files", ("o.png", image_bytes((3, 141, 59)), "image/png"))]
    foreign = page.post("/api/v1/images", files=files, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    assert foreign.json()["error"] == "forbidden"
    own_origin = str(page.base_url).rstrip("/")
    own = page.post("/api/v1/images", files=files, headers={"Origin": own_origin})
    assert own.status_code in (200, 202), own.text


def test_bodies_are_capped_per_route_at_nginx(page: httpx.Client) -> None:
    two_mb = b'{"urls": ["' + b"a" * (2 * 1024 * 1024) + b'"]}'
    response = page.post(
        "/api/v1/images/urls", content=two_mb, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    # search by image takes up to search.max_upload_bytes (20 MiB) through nginx
    big_query = page.post(
        "/api/v1/image/search", files={"file": ("q.png", b"\x89PNG" + b"\0" * (3 * 1024 * 1024))}
    )
    assert big_query.status_code != 413


def test_hostile_files_are_refused_by_what_they_claim_before_they_cost_anything(
    page: httpx.Client,
) -> None:
    # a PNG header claiming 100 MP over 8x8 pixels of data: refused by its size, so nothing
    # was decoded (decoding would have failed as corrupt, 422)
    query = page.post(
        "/api/v1/image/search", files={"file": ("q.png", png_claiming(10_000, 10_000))}
    )
    assert query.status_code == 413
    assert "search.max_pixels" in query.json()["detail"]
    upload = page.post("/api/v1/images", files=[("files", ("u.png", png_claiming(9000, 9000)))])
    assert upload.status_code == 413
    assert "ingest.max_decoded_pixels" in upload.json()["items"][0]["reason"]
    # a zip naming 200,000 members: refused from its end record, before its directory is read
    archive = page.post("/api/v1/images", files=[("files", ("big.zip", many_entry_zip(200_000)))])
    assert archive.status_code == 413
    assert "holds 200000 files, over the limit of 1000" in archive.json()["items"][0]["reason"]
