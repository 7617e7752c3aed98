import hmac
from collections.abc import Iterator

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from ingestapi.container import Container
from ingestapi.main import create_app
from ingestapi.settings import IngestApiSettings
from shared.config import StorageSettings
from tests.support.images import image_bytes
from tests.unit.fakes import (
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    RecordingQueue,
)

KEY = "k-9f2c1e7a4b"


def client_with(protect_reads: bool = False, **opened: bool) -> TestClient:
    settings = IngestApiSettings(
        storage=StorageSettings(access_key="k", secret_key="s"),
        auth={  # type: ignore[arg-type]
            "api_keys": [KEY, "another-key"],
            "protect_reads": protect_reads,
            "url_signing_key": "sig-2d4f",
            **opened,
        },
    )
    container = Container(settings=settings)
    container.object_store.override(providers.Object(InMemoryObjectStore()))
    container.task_queue.override(providers.Object(RecordingQueue()))
    container.job_store.override(providers.Object(InMemoryJobStore()))
    container.live_index.override(providers.Object(InMemoryVectorIndex()))
    return TestClient(create_app(container))


@pytest.fixture
def client() -> Iterator[TestClient]:
    with client_with() as c:
        yield c


def upload(client: TestClient, headers: dict[str, str]) -> int:
    files = [("files", ("a.png", image_bytes()))]
    return client.post("/api/v1/images", files=files, headers=headers).status_code


def test_writes_need_a_valid_key(client: TestClient) -> None:
    missing = client.post("/api/v1/images", files=[("files", ("a.png", image_bytes()))])
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"] == "unauthorized"
    assert upload(client, {"Authorization": "Bearer wrong"}) == 401
    assert upload(client, {"X-API-Key": KEY[:-1]}) == 401
    assert upload(client, {"Authorization": f"Bearer {KEY}"}) == 202
    assert upload(client, {"X-API-Key": "another-key"}) == 200  # the duplicate, but let in
    urls = client.post("/api/v1/images/urls", json={"urls": ["https://example.com/a.jpg"]})
    assert urls.status_code == 401


def test_reads_are_open_unless_protected(client: TestClient) -> None:
    assert client.get(f"/api/v1/images/{'0' * 64}").status_code == 404
    with client_with(protect_reads=True) as closed:
        assert closed.get(f"/api/v1/images/{'0' * 64}").status_code == 401
        assert closed.get("/api/v1/jobs/x", headers={"X-API-Key": KEY}).status_code == 404
        assert closed.get("/healthz").status_code == 200  # probes stay open


def test_keys_are_compared_in_constant_time(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[bytes] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append(b)
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert upload(client, {"X-API-Key": KEY}) == 202
    assert compared == [KEY.encode(), b"another-key"]  # every key, even after a match


def test_a_body_is_not_read_before_the_key_is_checked(client: TestClient) -> None:
    # not JSON at all: without a key the answer is 401, never a parse error
    garbage = b"{" * 10_000
    for path in ("/api/v1/images/urls", "/api/v1/images/check"):
        response = client.post(path, content=garbage, headers={"Content-Type": "application/json"})
        assert response.status_code == 401, path
    keyed = client.post(
        "/api/v1/images/check",
        content=garbage,
        headers={"Content-Type": "application/json", "X-API-Key": KEY},
    )
    assert keyed.status_code == 422
    assert keyed.json()["error"] == "invalid_request"
    assert keyed.json()["detail"][0]["loc"][0] == "body"


def test_json_bodies_are_capped_while_they_stream(client: TestClient) -> None:
    headers = {"Content-Type": "application/json", "X-API-Key": KEY}
    over = b'{"ids": ["' + b"a" * (1024 * 1024) + b'"]}'
    declared = client.post("/api/v1/images/check", content=over, headers=headers)
    assert declared.status_code == 413
    assert "over 1048576 bytes" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: cut off while it streams
        yield over[: len(over) // 2]
        yield over[len(over) // 2 :]

    streamed = client.post("/api/v1/images/check", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert streamed.json()["error"] == "payload_too_large"
    fine = client.post("/api/v1/images/check", json={"ids": ["a" * 64]}, headers=headers)
    assert fine.status_code == 200


def keyless_client(**auth: object) -> TestClient:
    settings = IngestApiSettings(
        storage=StorageSettings(access_key="k", secret_key="s"),
        auth=auth,  # type: ignore[arg-type]
    )
    container = Container(settings=settings)
    container.object_store.override(providers.Object(InMemoryObjectStore()))
    container.task_queue.override(providers.Object(RecordingQueue()))
    container.job_store.override(providers.Object(InMemoryJobStore()))
    container.live_index.override(providers.Object(InMemoryVectorIndex()))
    return TestClient(create_app(container), base_url="http://photos.local:8080")


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 202),  # not a browser: curl, the bulk client
        ({"Origin": "http://photos.local:8080"}, 202),  # the page itself
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "http://photos.local:9999"}, 403),  # another port is another site
        ({"Origin": "null"}, 403),  # sandboxed frames, file:// pages
        ({"Referer": "http://evil.example/page.html"}, 403),
        ({"Referer": "http://photos.local:8080/?q=cat"}, 202),
        ({"Origin": "https://friend.example"}, 202),  # listed in auth.allowed_origins
    ],
)
def test_without_keys_writes_must_come_from_the_site_itself(
    headers: dict[str, str], status: int
) -> None:
    with keyless_client(allowed_origins=["https://friend.example"]) as c:
        files = [("files", ("a.png", image_bytes()))]
        response = c.post("/api/v1/images", files=files, headers=headers)
        assert response.status_code == status, response.text
        if status == 403:
            assert response.json()["error"] == "forbidden"
            urls = c.post("/api/v1/images/urls", json={"urls": ["https://x.example/a.jpg"]},
                          headers=headers)  # fmt: skip
            assert urls.status_code == 403
        # reads stay open to anyone
        assert c.get("/api/v1/images/formats", headers=headers).status_code == 200


def test_ingestapi_refuses_protected_reads_without_a_signing_key() -> None:
    with pytest.raises(ValueError, match="url_signing_key"):
        IngestApiSettings(
            storage=StorageSettings(access_key="k", secret_key="s"),
            auth={"api_keys": [KEY], "protect_reads": True},  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/redoc", "/metrics"])
def test_docs_and_metrics_need_the_key_unless_opened(path: str) -> None:
    with client_with() as client:
        refused = client.get(path)
        assert refused.status_code == 401, path
        assert refused.json()["error"] == "unauthorized"
        assert client.get(path, headers={"X-API-Key": KEY}).status_code == 200
    with client_with(open_docs=True, open_metrics=True) as opened:
        assert opened.get(path).status_code == 200
