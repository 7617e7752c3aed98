"""One upload is one trace: nginx starts it (or takes the client's traceparent), ingestapi's
server span continues it, the Celery task carries it to the worker, whose batch, stage and
client spans (Redis, S3, Milvus) join it; every log line of the request and the batch names it.
The test stack writes every service's finished spans to one JSON-lines file."""

import json
import random
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from tests.support.images import image_bytes
from tests.support.polling import eventually, finished_job
from tests.support.stack import SPANS_FILE

WORKER_STAGES = {"index_images", "fetch", "decode", "derive", "embed", "index_write"}


@pytest.fixture(scope="module")
def page(full_stack: Stack) -> httpx.Client:
    full_stack.up(["worker"])
    return httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=30)


def spans_of(stack: Stack, trace_id: str) -> list[dict[str, Any]]:
    path = stack.run_dir / SPANS_FILE
    if not path.exists():
        return []
    spans = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [s for s in spans if s["context"]["trace_id"] == f"0x{trace_id}"]


def service(span: dict[str, Any]) -> str:
    return str(span["resource"]["attributes"]["service.name"])


def upload(page: httpx.Client, headers: dict[str, str]) -> tuple[str, str]:
    colour = tuple(random.randrange(256) for _ in range(3))
    response = page.post(
        "/api/v1/images",
        files=[("files", ("traced.png", image_bytes(colour), "image/png"))],
        headers=headers,
    )
    assert response.status_code == 202, response.text
    job = finished_job(page, response.json()["job_id"])
    assert job["state"] == "indexed"
    return str(response.json()["job_id"]), response.headers["X-Request-ID"]


def whole_trace(stack: Stack, trace_id: str) -> list[dict[str, Any]]:
    """The trace once the worker's spans are in: they end after the job shows indexed."""

    def complete() -> list[dict[str, Any]] | None:
        spans = spans_of(stack, trace_id)
        return spans if {s["name"] for s in spans} >= WORKER_STAGES else None

    return eventually(complete, 30, f"the worker's spans in trace {trace_id}")


def test_an_upload_is_one_trace_from_nginx_through_the_worker(
    full_stack: Stack, page: httpx.Client
) -> None:
    _, request_id = upload(page, {})
    # no traceparent sent: nginx started the trace, its id is nginx's request id
    spans = whole_trace(full_stack, request_id)
    by_id = {s["context"]["span_id"]: s for s in spans}
    services = {service(s) for s in spans}
    assert {"ingestapi", "ingestworker"} <= services
    server = [s for s in spans if service(s) == "ingestapi" and s["kind"] == "SpanKind.SERVER"]
    assert any("/api/v1/images" in s["name"] for s in server)
    # the worker's batch span is a child of a span of the upload's request
    (batch,) = [s for s in spans if s["name"] == "index_images"]
    assert service(by_id[batch["parent_id"]]) == "ingestapi"
    # every span hangs off another of the trace, except the first (nginx's, not exported)
    roots = [s for s in spans if s["parent_id"] not in by_id]
    assert len(roots) == 1 and roots[0] in server
    # client spans of the systems both sides call
    clients = {(service(s), s["name"].split()[0]) for s in spans if s["kind"] == "SpanKind.CLIENT"}
    names = " ".join(s["name"] for s in spans if s["kind"] == "SpanKind.CLIENT")
    assert any(svc == "ingestapi" for svc, _ in clients)
    assert "PUT" in names or "POST" in names  # S3 (the original's upload)
    assert "GET" in names  # S3 (the worker's fetch)
    assert any(s["attributes"].get("db.system") == "redis" for s in spans)
    assert "milvus" in names.lower()  # pymilvus' gRPC


def test_enrichment_is_a_trace_of_its_own_linked_to_the_indexing_that_queued_it(
    enriched: Stack, page: httpx.Client
) -> None:
    _, request_id = upload(page, {})
    upload_spans = {s["context"]["span_id"] for s in whole_trace(enriched, request_id)}

    def linked() -> list[dict[str, Any]] | None:
        path = enriched.run_dir / SPANS_FILE
        spans = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        found = [
            s
            for s in spans
            if s["name"] == "enrich_images"
            and any(link["context"]["span_id"] in upload_spans for link in s.get("links", []))
        ]
        return found or None

    (enrich,) = eventually(linked, 60, "an enrichment span linked to the upload's indexing")
    assert enrich["parent_id"] is None  # the root of its own trace
    assert enrich["context"]["trace_id"] != f"0x{request_id}"


def test_a_clients_traceparent_is_continued_and_names_every_log_line(
    full_stack: Stack, page: httpx.Client
) -> None:
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    upload(page, {"traceparent": f"00-{trace_id}-{parent}-01"})
    spans = whole_trace(full_stack, trace_id)
    roots = [s for s in spans if s["parent_id"] == f"0x{parent}"]
    assert [service(s) for s in roots] == ["ingestapi"]
    for name in ("ingestapi", "worker"):
        lines = log_lines(full_stack.table.log_path(name), trace_id)
        assert lines, f"no {name} log line names trace {trace_id}"
    worker_lines = log_lines(full_stack.table.log_path("worker"), trace_id)
    assert any(" batch_indexed " in line for line in worker_lines)
    access = (full_stack.run_dir / "logs" / "nginx-access.log").read_text()
    assert f"traceparent=00-{trace_id}-{parent}-01" in access


def log_lines(path: Path, trace_id: str) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if trace_id in line]
