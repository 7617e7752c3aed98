import ipaddress

import httpx
import pytest

from ingestworker.adapters.url_fetcher import FetchFailed, UrlFetcher
from ingestworker.service.url_download import UrlDownloadService
from shared.config import Limit
from shared.intake import Intake
from shared.netguard import FetchSettings, url_refusal
from shared.schemas import ImageState, UploadDetails
from tests.support.images import image_bytes
from tests.unit.fakes import (
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    RecordingQueue,
)

ALLOWED = FetchSettings(allow_networks=[ipaddress.ip_network("127.0.0.2/32")], max_bytes=5000)


def site(routes: dict[str, httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return routes.get(request.url.path, httpx.Response(404))

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/a.jpg", "127.0.0.1 is a loopback address"),
        ("http://10.0.0.1/a.jpg", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("http://[::1]:8080/a.jpg", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/a.jpg", "is a loopback address"),
        ("http://0.0.0.0/a.jpg", "0.0.0.0 is a"),
        ("ftp://example.com/a.jpg", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://", "URL has no host"),
        ("http://[zz]/a.jpg", "not a valid URL"),
    ],
)
def test_forbidden_urls_are_refused_before_any_lookup(url: str, reason: str) -> None:
    assert reason in (url_refusal(url) or "")


def test_a_public_literal_address_passes_the_first_check() -> None:
    assert url_refusal("https://93.184.215.14/cat.jpg") is None


def test_the_connection_goes_to_the_checked_address_with_the_name_kept() -> None:
    seen: list[httpx.Request] = []
    routes = {"/cat.png": httpx.Response(200, content=image_bytes())}
    fetched = UrlFetcher(ALLOWED, site(routes, seen)).fetch("http://127.0.0.2:8000/cat.png")
    assert (fetched.filename, fetched.data) == ("cat.png", image_bytes())
    assert seen[0].url.host == "127.0.0.2"
    assert seen[0].headers["host"] == "127.0.0.2:8000"


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://127.0.0.1:8000/cat.png", "redirect to http://127.0.0.1:8000/cat.png: 127.0.0.1"),
        ("http://localhost:8000/cat.png", "localhost resolves to"),
        ("http://169.254.169.254/", "link-local"),
    ],
)
def test_redirects_into_forbidden_ranges_are_refused(location: str, reason: str) -> None:
    seen: list[httpx.Request] = []
    routes = {"/r": httpx.Response(302, headers={"location": location})}
    with pytest.raises(FetchFailed) as exc:
        UrlFetcher(ALLOWED, site(routes, seen)).fetch("http://127.0.0.2/r")
    assert reason in exc.value.reason
    assert len(seen) == 1  # the forbidden address was never contacted


def test_size_status_and_redirect_limits() -> None:
    seen: list[httpx.Request] = []
    routes = {
        "/big": httpx.Response(200, content=bytes(6000)),
        "/loop": httpx.Response(302, headers={"location": "/loop"}),
    }
    fetcher = UrlFetcher(ALLOWED, site(routes, seen))
    with pytest.raises(FetchFailed, match="over the limit of 5000"):
        fetcher.fetch("http://127.0.0.2/big")
    with pytest.raises(FetchFailed, match="HTTP 404"):
        fetcher.fetch("http://127.0.0.2/missing")
    with pytest.raises(FetchFailed, match="more than 3 redirects"):
        fetcher.fetch("http://127.0.0.2/loop")


def test_url_ingest_stores_good_downloads_and_records_why_others_failed() -> None:
    store, jobs, queue = InMemoryObjectStore(), InMemoryJobStore(), RecordingQueue()
    routes = {
        "/good.png": httpx.Response(200, content=image_bytes("red")),
        "/page.html": httpx.Response(200, content=b"<html></html>"),
    }
    fetcher = UrlFetcher(ALLOWED, site(routes, []))
    limits = Limit(10_000, "fetch.max_bytes"), Limit(1_000_000, "fetch.max_pixels")
    intake = Intake(store, jobs, InMemoryVectorIndex(), *limits)
    service = UrlDownloadService(fetcher, intake, jobs, queue, batch_size=16)
    items = [
        ("s0", "http://127.0.0.2/good.png"),
        ("s1", "http://127.0.0.2/page.html"),
        ("s2", "http://127.0.0.2/good.png"),
    ]
    report = service.run("job", items, UploadDetails(source="url"))
    assert len(report.accepted) == 1 and report.duplicate == 1
    assert jobs.fetch_slots["s0"] == (ImageState.queued, None, report.accepted[0])
    assert jobs.fetch_slots["s1"][0] == ImageState.failed
    assert "415" in (jobs.fetch_slots["s1"][1] or "")
    assert queue.tasks == [(report.accepted, "job")]
