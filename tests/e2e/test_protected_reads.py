"""API keys with protected reads, through nginx: every API and cdnapi want a key, the images a
search hands out are signed URLs that nginx checks before its cache answers."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from shared.web.signing import UrlSigner
from tests.support.images import unique_image_bytes
from tests.support.polling import finished_job
from tests.support.stack import API_KEY, URL_SIGNING_KEY

KEY = {"X-API-Key": API_KEY}


@pytest.fixture(scope="module")
def site(keyed_stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=keyed_stack.settings.url("nginx"), timeout=30)


@pytest.fixture(scope="module")
def indexed(site: httpx.Client) -> dict[str, str]:
    """One image uploaded with the key and indexed: its search result item."""
    data = unique_image_bytes((120, 7, 201), fmt="PNG")
    refused = site.post("/api/v1/images", files=[("files", ("p.png", data))])
    assert refused.status_code == 401
    upload = site.post("/api/v1/images", files=[("files", ("p.png", data))], headers=KEY)
    assert upload.status_code == 202, upload.text
    image_id = upload.json()["items"][0]["id"]
    keyed = httpx.Client(base_url=str(site.base_url), headers=KEY, timeout=30)
    assert finished_job(keyed, upload.json()["job_id"])["state"] == "indexed"
    found = keyed.get("/api/v1/image/search", params={"text": "a square", "limit": 200})
    assert found.status_code == 200
    return next(item for item in found.json()["items"] if item["id"] == image_id)


def test_every_api_wants_the_key(site: httpx.Client, indexed: dict[str, str]) -> None:
    image_id = indexed["id"]
    for path in (
        "/api/v1/image/search?text=cat",
        f"/api/v1/images/{image_id}/similar",
        f"/api/v1/images/{image_id}",
        "/api/v1/images/formats",
        f"/images/{image_id}",
        f"/images/{image_id}/thumbnail",
    ):
        response = site.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"] == "unauthorized", path
    assert site.get(f"/api/v1/images/{image_id}/similar", headers=KEY).status_code == 200


def test_signed_urls_are_served_from_the_cache_and_only_to_signed_requests(
    site: httpx.Client, indexed: dict[str, str]
) -> None:
    image_id = indexed["id"]
    for field, path in [
        ("url", f"/images/{image_id}"),
        ("thumbnail_url", f"/images/{image_id}/thumbnail"),
        ("preview_url", f"/images/{image_id}/preview"),
    ]:
        signed = indexed[field]
        assert urlsplit(signed).path == path
        first = site.get(signed)
        assert first.status_code == 200, (field, first.text)
        assert first.headers["cache-control"].startswith("private")
        again = site.get(signed)
        assert again.headers["x-cache-status"] == "HIT"
        assert again.content == first.content
        # cached now, and still nobody else's: no signature, a bad one, or another image's
        assert site.get(path).status_code == 401
        query = parse_qs(urlsplit(signed).query)
        tampered = f"{path}?exp={query['exp'][0]}&sig={'A' * len(query['sig'][0])}"
        assert site.get(tampered).status_code == 401
        later = f"{path}?exp={int(query['exp'][0]) + 3600}&sig={query['sig'][0]}"
        assert site.get(later).status_code == 401
        expired = f"{path}?exp=1000&sig={query['sig'][0]}"
        assert site.get(expired).status_code == 401


def test_a_key_reads_images_past_the_cache(site: httpx.Client, indexed: dict[str, str]) -> None:
    path = f"/images/{indexed['id']}"
    site.get(indexed["url"])  # in the cache
    with_key = site.get(path, headers=KEY)
    assert with_key.status_code == 200
    assert with_key.headers["x-cache-status"] == "BYPASS"
    wrong = site.get(path, headers={"X-API-Key": "not-the-key"})
    assert wrong.status_code == 401  # cdnapi itself checked it


def test_cdnapi_itself_checks_keys_and_signatures(
    keyed_stack: Stack, indexed: dict[str, str]
) -> None:
    cdn = httpx.Client(base_url=keyed_stack.settings.url("cdnapi"), timeout=30)
    assert cdn.get(f"/images/{indexed['id']}").status_code == 401
    assert cdn.get(indexed["thumbnail_url"]).status_code == 200
    assert cdn.get(f"/images/{indexed['id']}", headers=KEY).status_code == 200


def test_a_client_behind_nginx_cannot_pick_its_own_rate_limit_bucket(site: httpx.Client) -> None:
    # nginx trusts no proxy in front of it: X-Forwarded-For from a client is not its address,
    # so one client stays one bucket (search: 20 per minute in this stack)
    statuses = [
        site.get(
            "/api/v1/image/search",
            params={"text": "dog"},
            headers={**KEY, "X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"10.1.1.{i}"},
        ).status_code
        for i in range(30)
    ]
    assert 429 in statuses
    assert set(statuses) == {200, 429}


def test_deleting_clears_signed_urls_from_the_cache(site: httpx.Client) -> None:
    """The cache is cleared by signed requests, as cdnapi wants one without a key."""
    data = unique_image_bytes((120, 99, 3), fmt="PNG")
    keyed = httpx.Client(base_url=str(site.base_url), headers=KEY, timeout=30)
    upload = keyed.post("/api/v1/images", files=[("files", ("d.png", data))])
    image_id = upload.json()["items"][0]["id"]
    assert finished_job(keyed, upload.json()["job_id"])["state"] == "indexed"
    # signed as the APIs sign them (the search is rate limited in this stack)
    signer = UrlSigner(URL_SIGNING_KEY, 3600)
    urls = [signer.sign(f"/images/{image_id}{size}") for size in ("", "/thumbnail", "/preview")]
    for url in urls:
        assert site.get(url).status_code == 200
        assert site.get(url).headers["x-cache-status"] == "HIT", url

    assert site.delete(f"/api/v1/images/{image_id}").status_code == 401
    assert keyed.delete(f"/api/v1/images/{image_id}").status_code == 204
    for url in urls:
        assert site.get(url).status_code == 404, url
