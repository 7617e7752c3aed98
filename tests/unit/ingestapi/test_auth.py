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


def client_with(protect_reads: bool = False) -> TestClient:
    settings = IngestApiSettings(
        storage=StorageSettings(access_key="k", secret_key="s"),
        auth={"api_keys": [KEY, "another-key"], "protect_reads": protect_reads},  # type: ignore[arg-type]
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
