from collections.abc import Iterator

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from ingestapi.container import Container
from ingestapi.main import create_app
from ingestapi.settings import IngestApiSettings
from shared.config import StorageSettings
from tests.unit.fakes import InMemoryJobStore, InMemoryObjectStore, RecordingQueue, image_bytes


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = IngestApiSettings(storage=StorageSettings(access_key="k", secret_key="s"))
    container = Container(settings=settings)
    container.object_store.override(providers.Object(InMemoryObjectStore()))
    container.task_queue.override(providers.Object(RecordingQueue()))
    container.job_store.override(providers.Object(InMemoryJobStore()))
    with TestClient(create_app(container)) as c:
        yield c


def test_upload_answers_202_with_per_file_results(client: TestClient) -> None:
    files = [("files", ("a.png", image_bytes("red"))), ("files", ("b.txt", b"text"))]
    response = client.post("/api/v1/images", files=files)
    assert response.status_code == 202
    items = response.json()["items"]
    assert [i["status"] for i in items] == ["accepted", "rejected"]
    assert items[1]["http_status"] == 415
    job = client.get(f"/api/v1/jobs/{response.json()['job_id']}").json()
    assert job["state"] == "queued"
    assert [i["filename"] for i in job["items"]] == ["a.png"]


def test_only_bad_files_answer_with_their_status(client: TestClient) -> None:
    response = client.post("/api/v1/images", files=[("files", ("e.png", b""))])
    assert response.status_code == 400
    assert response.json()["items"][0]["reason"] == "empty file"


def test_repeat_upload_answers_200_duplicate(client: TestClient) -> None:
    files = [("files", ("a.png", image_bytes("red")))]
    first = client.post("/api/v1/images", files=files).json()
    second = client.post("/api/v1/images", files=files)
    assert second.status_code == 200
    assert second.json()["items"][0]["id"] == first["items"][0]["id"]


def test_missing_files_field_is_422_with_reason(client: TestClient) -> None:
    response = client.post("/api/v1/images", data={"x": "y"})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert any("files" in d["loc"] for d in response.json()["detail"])


def test_unknown_job_is_404_without_trace(client: TestClient) -> None:
    response = client.get("/api/v1/jobs/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "Traceback" not in response.text


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_full_queue_is_503_with_retry_after() -> None:
    settings = IngestApiSettings(
        storage=StorageSettings(access_key="k", secret_key="s"),
        ingest={"max_queue": 1},  # type: ignore[arg-type]
    )
    container = Container(settings=settings)
    container.object_store.override(providers.Object(InMemoryObjectStore()))
    container.task_queue.override(providers.Object(RecordingQueue(waiting=5)))
    container.job_store.override(providers.Object(InMemoryJobStore()))
    with TestClient(create_app(container)) as client:
        response = client.post("/api/v1/images", files=[("files", ("a.png", image_bytes()))])
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert response.json()["error"] == "queue_full"
