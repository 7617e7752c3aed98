"""Bad data, not bad infrastructure: every file of a real corpus of odd images (Pillow's own
test-image folder) and of generated oddities. What the API accepts, the worker indexes; no file
gets a 5xx; no image is left waiting."""

import io
import json
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from shared.config import Limit
from shared.intake import Intake
from shared.schemas import UploadDetails, UploadStatus
from tests.support.corpus import pillow_test_images
from tests.support.oddities import oddities
from tests.support.polling import eventually
from tests.support.worker import index_pipeline
from tests.unit.fakes import (
    ColourEmbedder,
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
)

ARCHIVE_FILES = 16
# the API's own limits (conf/ingestapi.yaml defaults)
MAX_BYTES, MAX_PIXELS = 50 * 1024 * 1024, 100_000_000


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    files = {f"pillow/{name}": data for name, data in pillow_test_images().items()}
    files.update({f"odd/{name}": data for name, data in oddities().items()})
    assert len(files) > 1000
    return files


def test_what_the_api_accepts_the_worker_indexes(corpus: dict[str, bytes]) -> None:
    """The property, file by file, through the real intake and pipeline code."""
    store, jobs, index = InMemoryObjectStore(), InMemoryJobStore(), InMemoryVectorIndex()
    intake = Intake(
        store,
        jobs,
        index,
        Limit(MAX_BYTES, "ingest.max_bytes"),
        Limit(MAX_PIXELS, "ingest.max_pixels"),
    )
    pipeline = index_pipeline(store, index, ColourEmbedder(), jobs)
    outcomes: Counter[str] = Counter()
    not_indexed: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, data in corpus.items():
            result = intake.accept(name, data, UploadDetails())
            assert result.http_status < 500, (name, result.reason)
            outcomes[result.status.value if result.id else str(result.http_status)] += 1
            if result.status == UploadStatus.accepted and result.id:
                report = pipeline.run([result.id])
                if report.failed:
                    not_indexed[name] = report.failed[result.id]
    assert not_indexed == {}
    assert outcomes["accepted"] > 700  # most of the corpus is real, readable images


@pytest.mark.timeout(900)
def test_the_corpus_in_zip_archives_through_the_stack(
    full_stack: Stack, corpus: dict[str, bytes]
) -> None:
    """Sent as a user would send a folder: zip archives of 16 files each."""
    report: dict[str, Any] = {"files_sent": len(corpus), "server_errors": 0}
    statuses: Counter[str] = Counter()
    rejected: Counter[int] = Counter()
    job_ids: list[str] = []
    with httpx.Client(base_url=full_stack.settings.url("ingestapi"), timeout=300) as api:
        for number, archive in enumerate(_archives(corpus)):
            response = api.post(
                "/api/v1/images",
                files=[("files", (f"corpus-{number}.zip", archive, "application/zip"))],
            )
            report["server_errors"] += response.status_code >= 500
            body = response.json()
            assert len(body["items"]) >= 1, body
            for item in body["items"]:
                statuses[item["status"]] += 1
                report["server_errors"] += item["http_status"] >= 500
                if item["status"] == "rejected":
                    rejected[item["http_status"]] += 1
            if body["job_id"]:
                job_ids.append(body["job_id"])
        finished = _wait_for_jobs(api, job_ids)
    states = Counter(item["state"] for job in finished for item in job["items"])
    report.update(
        accepted=statuses["accepted"],
        duplicate=statuses["duplicate"],
        rejected_by_status=dict(sorted(rejected.items())),
        indexed=states["indexed"],
        failed=states["failed"],
        failed_reasons=sorted(
            {f"{i['filename']}: {i['reason']}" for j in finished for i in j["items"] if i["reason"]}
        ),
        stuck=sum(n for state, n in states.items() if state not in ("indexed", "failed")),
    )
    path = full_stack.run_dir / "corpus-report.json"
    path.write_text(json.dumps(report, indent=2))
    assert report["server_errors"] == 0
    assert report["stuck"] == 0
    assert report["failed"] == 0, report["failed_reasons"]
    assert report["indexed"] == report["accepted"] + report["duplicate"]
    assert report["accepted"] + report["duplicate"] + sum(rejected.values()) == len(corpus)


def _archives(corpus: dict[str, bytes]) -> Iterator[bytes]:
    names = sorted(corpus)
    for start in range(0, len(names), ARCHIVE_FILES):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for name in names[start : start + ARCHIVE_FILES]:
                archive.writestr(name, corpus[name])
        yield out.getvalue()


def _wait_for_jobs(api: httpx.Client, job_ids: list[str]) -> list[dict[str, Any]]:
    def all_finished() -> list[dict[str, Any]] | None:
        jobs = [api.get(f"/api/v1/jobs/{job_id}").json() for job_id in job_ids]
        return jobs if all(job["state"] in ("indexed", "failed") for job in jobs) else None

    return eventually(all_finished, 600, "every corpus job finishing", interval_s=1.0)
