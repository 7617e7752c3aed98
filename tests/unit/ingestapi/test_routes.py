import asyncio
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from ingestapi.container import Container
from ingestapi.main import create_app
from ingestapi.multipart import REQUEST_MEMORY_BYTES, on_disk, read_multipart
from ingestapi.settings import IngestApiSettings, IngestSettings
from ingestapi.upload_limits import UploadLimits
from shared.config import StorageSettings
from shared.errors import Unavailable
from shared.schemas import ImageState
from tests.support.images import image_bytes
from tests.support.metrics import metric_sum
from tests.unit.fakes import (
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    RecordingQueue,
)


@contextmanager
def ingest_client(
    waiting: int = 0,
    jobs: InMemoryJobStore | None = None,
    queue: RecordingQueue | None = None,
    **ingest: int,
) -> Iterator[TestClient]:
    settings = IngestApiSettings(
        storage=StorageSettings(access_key="k", secret_key="s"),
        ingest=ingest,  # type: ignore[arg-type]
    )
    container = Container(settings=settings)
    container.object_store.override(providers.Object(InMemoryObjectStore()))
    container.task_queue.override(providers.Object(queue or RecordingQueue(waiting=waiting)))
    container.job_store.override(providers.Object(jobs or InMemoryJobStore()))
    container.live_index.override(providers.Object(InMemoryVectorIndex()))
    with TestClient(create_app(container)) as c:
        yield c


@pytest.fixture
def client() -> Iterator[TestClient]:
    with ingest_client() as c:
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


def test_a_form_without_files_is_400_and_a_non_multipart_body_415(client: TestClient) -> None:
    no_files = client.post("/api/v1/images", files={"caption": (None, "x")})
    assert no_files.status_code == 400
    assert "files" in no_files.json()["detail"]
    urlencoded = client.post("/api/v1/images", data={"x": "y"})
    assert urlencoded.status_code == 415
    assert "multipart/form-data" in urlencoded.json()["detail"]


def test_a_file_over_max_bytes_is_cut_off_alone() -> None:
    with ingest_client(max_bytes=2000) as client:
        files = [
            ("files", ("big.bin", bytes(50_000))),
            ("files", ("a.png", image_bytes("red"))),
        ]
        response = client.post("/api/v1/images", files=files)
    assert response.status_code == 202
    items = response.json()["items"]
    assert [(i["status"], i["http_status"]) for i in items] == [
        ("rejected", 413),
        ("accepted", 202),
    ]
    assert "2000" in items[0]["reason"]


def test_bad_tags_are_422_with_the_field_named(client: TestClient) -> None:
    files = [("files", ("a.png", image_bytes("red")))]
    response = client.post("/api/v1/images", files=files, data={"tags": "x" * 65})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["tags"]


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"tags": ["a"] * 5}, "ingest.max_form_fields"),
        ({"caption": "x" * 1025}, "ingest.max_form_field_bytes"),
        ({"caption": "x" * 1000, "tags": "y" * 1000, "source": "z" * 600}, "ingest.max_form_bytes"),
    ],
)
def test_text_fields_are_capped_in_number_each_and_together(
    fields: dict[str, str | list[str]], key: str
) -> None:
    files = [("files", ("a.png", image_bytes("red")))]
    with ingest_client(max_form_fields=4, max_form_field_bytes=1024, max_form_bytes=2048) as client:
        response = client.post("/api/v1/images", files=files, data=fields)
        assert response.status_code == 413, response.text
        assert key in response.json()["detail"]
        # at the caps exactly, the same upload goes through
        fine = {"tags": ["a"] * 3, "caption": "x" * 1024}
        response = client.post("/api/v1/images", files=files, data=fine)
        assert response.status_code == 202, response.text


def test_check_reports_known_ids_and_refuses_malformed_ones(client: TestClient) -> None:
    first = client.post("/api/v1/images", files=[("files", ("a.png", image_bytes("red")))])
    known_id = first.json()["items"][0]["id"]
    other = "0" * 64
    response = client.post("/api/v1/images/check", json={"ids": [other, known_id]})
    assert response.json() == {"known": [known_id]}
    bad = client.post("/api/v1/images/check", json={"ids": ["../etc"]})
    assert bad.status_code == 422


def test_unknown_job_is_404_without_trace(client: TestClient) -> None:
    response = client.get("/api/v1/jobs/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "Traceback" not in response.text


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_full_queue_is_503_with_retry_after() -> None:
    with ingest_client(waiting=5, max_queue=1) as client:
        response = client.post("/api/v1/images", files=[("files", ("a.png", image_bytes()))])
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert response.json()["error"] == "queue_full"


def test_job_events_stream_progress_then_done() -> None:
    jobs = InMemoryJobStore()
    with ingest_client(jobs=jobs) as client:
        first = client.post("/api/v1/images", files=[("files", ("a.png", image_bytes("red")))])
        image_id = first.json()["items"][0]["id"]
        jobs.set_state(image_id, ImageState.indexed)  # the worker's part
        with client.stream("GET", f"/api/v1/jobs/{first.json()['job_id']}/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = [line for line in stream.iter_lines() if line.startswith("event:")]
        assert lines == ["event: progress", "event: done"]
        assert client.get("/api/v1/jobs/nope/events").status_code == 404


def test_url_ingest_refuses_forbidden_literal_addresses_at_once() -> None:
    queue = RecordingQueue()
    with ingest_client(queue=queue) as client:
        urls = ["https://example.com/cat.jpg", "http://10.0.0.1/a.jpg", "gopher://x/y"]
        response = client.post("/api/v1/images/urls", json={"urls": urls, "tags": "pets"})
        assert response.status_code == 202
        items = response.json()["items"]
        assert [i["status"] for i in items] == ["queued", "rejected", "rejected"]
        assert items[1]["reason"] == "10.0.0.1 is a private address"
        (pairs, job_id, details) = queue.fetches[0]
        assert [url for _, url in pairs] == ["https://example.com/cat.jpg"]
        assert (job_id, details["tags"], details["source"]) == (
            response.json()["job_id"],
            ["pets"],
            "url",
        )
        refused = client.post("/api/v1/images/urls", json={"urls": ["http://127.0.0.1/"]})
        assert refused.status_code == 422
        assert refused.json()["job_id"] is None
        empty = client.post("/api/v1/images/urls", json={"urls": []})
        assert empty.status_code == 422


def test_a_zip_may_be_larger_than_one_image_but_not_than_max_archive_bytes() -> None:
    members = {f"{i}.png": image_bytes((i * 40, 0, 0), size=(30, 30)) for i in range(4)}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    size = len(archive.getvalue())
    one = max(len(d) for d in members.values())
    with ingest_client(max_bytes=one, max_archive_bytes=size) as client:
        files = [("files", ("photos.zip", archive.getvalue()))]
        response = client.post("/api/v1/images", files=files)
        assert [i["status"] for i in response.json()["items"]] == ["accepted"] * 4
    with ingest_client(max_bytes=one, max_archive_bytes=size - 1) as client:
        response = client.post("/api/v1/images", files=files)
        (item,) = response.json()["items"]
        assert (item["http_status"], item["reason"]) == (
            413,
            f"larger than {size - 1} bytes (ingest.max_archive_bytes)",
        )


def test_readyz_names_the_dependency_that_does_not_answer() -> None:
    class DownJobs(InMemoryJobStore):
        def ping(self) -> None:
            raise Unavailable("job state store (redis) unreachable")

    with ingest_client() as client:
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    with ingest_client(jobs=DownJobs()) as client:
        down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["checks"] == {
        "redis": "job state store (redis) unreachable",
        "storage": "ok",
        "milvus": "ok",
    }


def test_metrics_count_upload_bytes_and_outcomes(client: TestClient) -> None:
    def value(name: str, **labels: str) -> float:
        return metric_sum(client.get("/metrics").text, name, **labels) or 0.0

    data = image_bytes((9, 8, 7))
    before = (
        value("imagesearch_upload_bytes_total"),
        value("imagesearch_upload_files_total", status="accepted"),
    )
    client.post("/api/v1/images", files=[("files", ("a.png", data))])
    assert value("imagesearch_upload_bytes_total") == before[0] + len(data)
    assert value("imagesearch_upload_files_total", status="accepted") == before[1] + 1


def test_a_failed_image_is_queued_again_on_request_and_nothing_else_is() -> None:
    jobs, queue = InMemoryJobStore(), RecordingQueue()
    with ingest_client(jobs=jobs, queue=queue) as client:
        uploaded = client.post("/api/v1/images", files=[("files", ("a.png", image_bytes()))])
        image_id = uploaded.json()["items"][0]["id"]
        on_its_way = client.post(f"/api/v1/images/{image_id}/retry")
        assert (on_its_way.status_code, on_its_way.json()["error"]) == (409, "conflict")
        jobs.set_state(image_id, ImageState.failed, "corrupt or truncated PNG image")
        retried = client.post(f"/api/v1/images/{image_id}/retry")
        assert retried.status_code == 202
        assert retried.json()["state"] == "queued"
        assert queue.tasks[-1] == ([image_id], retried.json()["job_id"])
        assert client.get(f"/api/v1/images/{image_id}").json()["state"] == "queued"
        assert client.post(f"/api/v1/images/{'0' * 64}/retry").status_code == 404
        assert client.post("/api/v1/images/not-an-id/retry").status_code == 404


def test_parts_past_the_request_memory_budget_go_to_disk() -> None:
    boundary = "b0undary"
    part = b"\xff\xd8" + b"j" * (900 * 1024)  # under the 1 MiB a part may keep in memory
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{i}.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n".encode()
            + part
            + b"\r\n"
            for i in range(60)
        )
        + f"--{boundary}--\r\n".encode()
    )

    async def chunks():  # type: ignore[no-untyped-def]
        for at in range(0, len(body), 64 * 1024):
            yield body[at : at + 64 * 1024]

    limits = UploadLimits.of(
        IngestSettings(max_bytes=10**8, max_archive_bytes=10**8, max_files=100)
    )
    form = asyncio.run(
        read_multipart(f"multipart/form-data; boundary={boundary}", chunks(), limits)
    )
    try:
        assert len(form.files) == 60
        assert all(f.size == len(part) for f in form.files)
        in_memory = sum(f.size for f in form.files if not on_disk(f.spool))
        assert 0 < in_memory <= REQUEST_MEMORY_BYTES  # 54 MB received, at most 16 MiB held
        assert form.files[-1].open().read() == part
    finally:
        form.close()
