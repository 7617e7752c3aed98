import gzip
import ipaddress
import zlib

import httpx
import pytest

from ingestworker.adapters.url_fetcher import FetchFailed, UrlFetcher
from ingestworker.service.retry_policy import RetryPolicy
from ingestworker.service.url_download import UrlDownloadService
from shared.config import Limit
from shared.intake import Intake
from shared.netguard import FetchSettings, refusal, url_refusal
from shared.schemas import ImageState, UploadDetails
from tests.support.images import image_bytes
from tests.support.sites import site
from tests.unit.fakes import (
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    RecordingQueue,
)

ALLOWED = FetchSettings(allow_networks=[ipaddress.ip_network("127.0.0.2/32")], max_bytes=5000)


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


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("2002:7f00:1::", "a loopback address in 6to4 form"),  # 127.0.0.1
        ("2002:a00:1::", "a private address in 6to4 form"),  # 10.0.0.1
        ("2002:a9fe:a9fe::", "a link-local address in 6to4 form"),  # 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "a loopback address in Teredo form"),
        ("64:ff9b::7f00:1", "a loopback address in NAT64 form"),
        ("64:ff9b::a9fe:a9fe", "a link-local address in NAT64 form"),
        ("64:ff9b:1::a00:1", "a private address in NAT64 form"),
    ],
)
def test_ipv4_ranges_tunnelled_in_ipv6_are_refused_as_what_they_reach(
    address: str, reason: str
) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason
    assert reason in (url_refusal(f"http://[{address}]/a.jpg") or "")


def test_a_name_resolving_to_an_internal_address_is_refused_without_naming_it() -> None:
    with pytest.raises(FetchFailed) as exc:
        UrlFetcher(FetchSettings()).fetch("http://localhost:9/cat.png")
    assert exc.value.reason == "localhost resolves to a loopback address"
    assert "127.0.0.1" not in exc.value.reason


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
    service = UrlDownloadService(fetcher, intake, jobs, queue, RetryPolicy(5, 60), batch_size=16)
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


def served(body: bytes, encoding: str, max_bytes: int = 5000) -> UrlFetcher:
    headers = {"content-encoding": encoding} if encoding else {}
    routes = {"/x": httpx.Response(200, headers=headers, content=body)}
    settings = ALLOWED.model_copy(update={"max_bytes": max_bytes})
    return UrlFetcher(settings, site(routes, []))


def test_stacked_encodings_are_refused_before_anything_is_inflated() -> None:
    bomb = gzip.compress(gzip.compress(bytes(20_000_000)))  # about 20 KB, 20 MB inside
    with pytest.raises(FetchFailed, match="stacked content encodings are refused"):
        served(bomb, "gzip, gzip").fetch("http://127.0.0.2/x")


def test_a_gzip_body_is_cut_off_while_it_inflates() -> None:
    packed = gzip.compress(bytes(20_000_000))  # about 20 KB on the wire
    with pytest.raises(FetchFailed, match="larger than 100000 bytes"):
        served(packed, "gzip", max_bytes=100_000).fetch("http://127.0.0.2/x")


@pytest.mark.parametrize("encoding", ["", "identity", "gzip", "deflate"])
def test_an_image_sent_plain_or_compressed_once_arrives_whole(encoding: str) -> None:
    png = image_bytes(size=(20, 20))
    packed = gzip.compress(png) if encoding == "gzip" else png
    packed = zlib.compress(png) if encoding == "deflate" else packed
    assert served(packed, encoding).fetch("http://127.0.0.2/x").data == png


def test_an_unknown_encoding_is_refused() -> None:
    with pytest.raises(FetchFailed, match="content encoding 'br' is not accepted"):
        served(b"\x00" * 10, "br").fetch("http://127.0.0.2/x")
