"""The second security review's findings, each tried against the real stack: unbounded form
fields, unbounded job event streams, the cache-refresh listener under another name, the page's
headers, docs and metrics on the API ports, signed URLs in logs, and a rate limit on every
route. (The delete race: test_delete_race.py; the gate's configuration: test_nginx_gate.py.)"""

import re
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from shared.schemas import ImageState
from shared.state import RedisJobStore
from shared.web.signing import UrlSigner
from tests.support.images import unique_image_bytes
from tests.support.polling import eventually
from tests.support.stack import API_KEY, KEYED_READ_LIMIT, URL_SIGNING_KEY, redis_settings

KEY = {"X-API-Key": API_KEY}
BOUNDARY = "security-boundary"


@pytest.fixture(scope="module")
def site(full_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60) as client:
        yield client


def form(fields: list[tuple[str, bytes]], image: bytes) -> Iterator[bytes]:
    """A multipart body streamed part by part: an image, then the text fields."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    yield image + b"\r\n"
    for name, value in fields:
        yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        yield value + b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        # the review's flood: many fields each under the per-field cap
        ([("tags", b"t" * 1_000)] * 400, "ingest.max_form_fields"),
        ([("tags", b"t" * 60_000)] * 5, "ingest.max_form_bytes"),
        ([("caption", b"c" * 70_000)], "ingest.max_form_field_bytes"),
    ],
)
def test_text_fields_are_refused_past_their_caps_as_they_arrive(
    site: httpx.Client, fields: list[tuple[str, bytes]], key: str
) -> None:
    image = unique_image_bytes((3, 9, 27), fmt="PNG")
    response = site.post(
        "/api/v1/images",
        content=form(fields, image),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 413, response.text
    assert key in response.json()["detail"]
    # nothing of the refused request was kept, and the next upload is served
    fine = site.post("/api/v1/images", files=[("files", ("a.png", image))], data={"tags": "ok"})
    assert fine.status_code == 202, fine.text


@pytest.fixture
def pending_job(full_stack: Stack) -> str:
    """A job whose image stays queued: no task was ever sent for it."""
    jobs = RedisJobStore.from_url(redis_settings(full_stack).url)
    job_id, image_id = f"sec-{uuid.uuid4().hex}", uuid.uuid4().hex * 2
    jobs.create_job(job_id, [(image_id, "waiting.png")])
    jobs.set_state(image_id, ImageState.queued)
    jobs.close()
    return job_id


def open_stream(client: httpx.Client, job_id: str) -> httpx.Response:
    request = client.build_request("GET", f"/api/v1/jobs/{job_id}/events")
    return client.send(request, stream=True)


def test_job_event_streams_are_capped_per_client_and_freed_when_closed(
    site: httpx.Client, pending_job: str
) -> None:
    with ExitStack() as streams:
        opened = []
        for _ in range(8):  # events.max_per_client
            response = open_stream(site, pending_job)
            streams.callback(response.close)
            opened.append(response.status_code)
        assert opened == [200] * 8
        refused = open_stream(site, pending_job)
        refused.read()
        assert refused.status_code == 429
        assert "events.max_per_client" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        # the job itself still answers at once
        assert site.get(f"/api/v1/jobs/{pending_job}").status_code == 200

    def admitted() -> bool:
        response = open_stream(site, pending_job)
        response.close()
        return response.status_code == 200

    eventually(admitted, 30, "a stream admitted once the others closed")


def test_the_refresh_listener_answers_only_its_own_name_and_image_paths(
    full_stack: Stack,
) -> None:
    own = full_stack.settings.url("nginx_refresh")
    image = f"/images/{'e' * 64}"
    with httpx.Client(base_url=own, timeout=30) as listener:
        # a page on another name that resolves here (DNS rebinding) gets nothing
        rebound = listener.get(image, headers={"Host": "attacker.example"})
        assert rebound.status_code == 421
        for path in ("/api/v1/stats", "/images/", f"{image}/original", "/readyz", "/metrics"):
            assert listener.get(path).status_code == 404, path
        assert listener.get(image).status_code == 404  # unknown image: cdnapi's own answer


def test_the_page_sends_its_security_headers(site: httpx.Client) -> None:
    for path in ("/", "/index.html", "/js/app.js"):
        headers = site.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert "script-src 'self'" in csp and "default-src 'self'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"


def test_docs_and_metrics_need_the_key_on_every_api_port(keyed_stack: Stack) -> None:
    for service in ("ingestapi", "searchapi", "cdnapi"):
        with httpx.Client(base_url=keyed_stack.settings.url(service), timeout=30) as api:
            for path in ("/docs", "/openapi.json", "/metrics"):
                assert api.get(path).status_code == 401, (service, path)
                assert api.get(path, headers=KEY).status_code == 200, (service, path)


def test_no_signed_query_and_no_signing_key_in_any_log(keyed_stack: Stack) -> None:
    """Signed URLs as the APIs sign them (the search budget of this stack's one client is the
    other tests'), fetched as an <img> does: no key."""
    signer = UrlSigner(URL_SIGNING_KEY, 3600)
    urls = [signer.sign(f"/images/{uuid.uuid4().hex * 2}/thumbnail") for _ in range(3)]
    with httpx.Client(base_url=keyed_stack.settings.url("nginx"), timeout=30) as browser:
        for url in urls:
            assert browser.get(url).status_code == 404  # past the gate: no such image
    logs = keyed_stack.run_dir / "logs"
    access = (logs / "nginx-access.log").read_text()
    assert "/thumbnail?(signed)" in access
    for log_file in logs.glob("*.log"):
        text = log_file.read_text(errors="replace")
        assert "sig=" not in text, log_file.name
        assert URL_SIGNING_KEY not in text, log_file.name
    # the spans exported name the URL with the signature blanked out
    spans = Path(keyed_stack.extra_env["CDNAPI__TELEMETRY__FILE"]).read_text()
    signatures = set(re.findall(r"sig=([^\"&]*)", spans))
    assert signatures == {"REDACTED"}


def test_every_ingestapi_route_has_a_rate_limit(keyed_stack: Stack) -> None:
    """Straight to ingestapi as nginx would send a client of its own (X-Real-IP from a trusted
    peer), so the other tests' client keeps its allowance."""
    limit = int(KEYED_READ_LIMIT.split("/")[0])
    client = {**KEY, "X-Real-IP": f"203.0.113.{uuid.uuid4().int % 250 + 1}"}
    with httpx.Client(base_url=keyed_stack.settings.url("ingestapi"), timeout=30) as api:
        statuses = [api.get("/api/v1/stats", headers=client).status_code for _ in range(limit + 10)]
        assert set(statuses) == {200, 429}
        assert statuses.count(200) <= limit
        for path in ("/api/v1/images", f"/api/v1/images/{'a' * 64}", "/api/v1/duplicates"):
            refused = api.get(path, headers=client)
            assert refused.status_code == 429, path
            assert "read rate limit" in refused.json()["detail"]
            assert int(refused.headers["retry-after"]) >= 1
        # writes have a bucket of their own, still open
        check = api.post("/api/v1/images/check", json={"ids": ["a" * 64]}, headers=client)
        assert check.status_code == 200
        # and another client is not limited by this one
        other = {**KEY, "X-Real-IP": "198.51.100.7"}
        assert api.get("/api/v1/stats", headers=other).status_code == 200
