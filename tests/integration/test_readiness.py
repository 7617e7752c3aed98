"""Readiness follows the dependencies (red while Redis is down, green once it is back), and
metrics count what the stack did."""

import shutil

import httpx

from imagesearch_dev.localstack import Stack
from tests.support.images import unique_image_bytes
from tests.support.metrics import metric_sum
from tests.support.polling import eventually, finished_job


def wait_status(url: str, status: int, timeout_s: float = 60) -> httpx.Response:
    def answered() -> httpx.Response | None:
        response = httpx.get(url, timeout=10)
        return response if response.status_code == status else None

    return eventually(answered, timeout_s, f"{url} answering {status}")


def test_every_api_is_ready_with_the_stack_up(full_stack: Stack) -> None:
    for name in ("ingestapi", "searchapi", "cdnapi"):
        body = wait_status(f"{full_stack.settings.url(name)}/readyz", 200).json()
        assert body["status"] == "ready", name
        assert set(body["checks"].values()) == {"ok"}, name


def test_ingestapi_turns_red_without_redis_and_green_again(full_stack: Stack) -> None:
    url = f"{full_stack.settings.url('ingestapi')}/readyz"
    full_stack.table.stop("redis")
    try:
        down = wait_status(url, 503)
        assert down.json()["checks"]["redis"] != "ok"
        assert down.json()["checks"]["storage"] == "ok"
    finally:
        full_stack.up(["redis"])
    assert wait_status(url, 200).json()["checks"]["redis"] == "ok"


def test_metrics_count_an_upload_a_search_and_the_worker_batches(full_stack: Stack) -> None:
    """API metrics on /metrics of each API; the worker's on its metrics port (prefork children
    summed by the main process)."""
    ingest, search = full_stack.settings.url("ingestapi"), full_stack.settings.url("searchapi")
    data = unique_image_bytes((200, 3, 4), fmt="PNG")
    response = httpx.post(f"{ingest}/api/v1/images", files=[("files", ("m.png", data))])
    assert response.status_code == 202
    job = response.json()["job_id"]
    with httpx.Client(base_url=ingest, timeout=30) as api:
        assert finished_job(api, job, timeout_s=60)["state"] == "indexed"
    httpx.get(f"{search}/api/v1/image/search", params={"text": "a red circle"})

    assert value(ingest, "imagesearch_upload_bytes_total") >= len(data)
    route = {"route": "/api/v1/image/search", "status": "200"}
    assert value(search, "imagesearch_http_requests_total", **route) >= 1
    assert value(search, "imagesearch_search_seconds_count", stage="vector_search") >= 1
    port = full_stack.service_env()["INGESTWORKER__METRICS__PORT"]
    worker = f"http://127.0.0.1:{port}"
    succeeded = {"task": "ingestworker.index_images", "outcome": "succeeded"}
    assert value(worker, "imagesearch_worker_tasks_total", **succeeded) >= 1
    assert value(worker, "imagesearch_worker_batch_images_count") >= 1
    assert value(worker, "imagesearch_worker_queue_depth") >= 0


def value(base: str, name: str, **labels: str) -> float:
    """The samples' sum, -1 when the metric is absent."""
    total = metric_sum(httpx.get(f"{base}/metrics", timeout=10).text, name, **labels)
    return -1.0 if total is None else total


def test_the_worker_indexes_on_after_its_metrics_folder_is_removed(full_stack: Stack) -> None:
    """A cleaner that removes the worker's state folder costs metrics, never a task: the
    folder is made again when the next batch records into it."""
    folder = full_stack.run_dir / "state" / "worker-metrics"
    ingest = full_stack.settings.url("ingestapi")
    port = full_stack.service_env()["INGESTWORKER__METRICS__PORT"]
    eventually(folder.is_dir, 60, "the worker's metrics folder")
    shutil.rmtree(folder)
    for _ in range(2):  # the second upload runs in a child that found the folder gone
        data = unique_image_bytes((10, 200, 30), fmt="PNG")
        response = httpx.post(f"{ingest}/api/v1/images", files=[("files", ("gone.png", data))])
        assert response.status_code == 202
        with httpx.Client(base_url=ingest, timeout=30) as api:
            job = finished_job(api, response.json()["job_id"], timeout_s=60)
        assert job["state"] == "indexed"
    assert folder.is_dir()
    scrape = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert scrape.status_code == 200
    assert "imagesearch_worker_queue_depth" in scrape.text
