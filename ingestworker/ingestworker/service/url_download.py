"""URL ingest, the worker's half: download each URL (SSRF-safe), take it in like an
upload, queue it for indexing. A URL that fails says why in its job item; an outage of our
own storage or Redis raises (Unavailable) so the task is retried, and finished URLs come back
as duplicates."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from ingestworker.adapters.url_fetcher import FetchFailed, UrlFetcher
from ingestworker.service.retry_policy import Outage, RetryPolicy
from shared.errors import Unavailable
from shared.intake import Intake, queue_for_indexing
from shared.log import get_logger
from shared.queue import TaskQueue
from shared.schemas import ImageState, UploadDetails, UploadStatus
from shared.state import JobStore

log = get_logger(__name__)


@dataclass
class UrlDownloadReport:
    accepted: list[str] = field(default_factory=list)
    duplicate: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    outage: Outage | None = None  # retry the task after outage.wait_s


class UrlDownloadService:
    def __init__(
        self,
        fetcher: UrlFetcher,
        intake: Intake,
        jobs: JobStore,
        queue: TaskQueue,
        retry: RetryPolicy,
        batch_size: int,
    ) -> None:
        self._fetcher = fetcher
        self._intake = intake
        self._jobs = jobs
        self._queue = queue
        self._retry = retry
        self._batch_size = batch_size

    def run(
        self,
        job_id: str,
        items: Sequence[tuple[str, str]],
        details: UploadDetails,
        retries: int = 0,
    ) -> UrlDownloadReport:
        """``retries``: the outages this task has already waited out."""
        report = UrlDownloadReport()
        try:
            try:
                for slot, url in items:
                    self._take(slot, url, details, report)
            finally:
                # an outage part-way (the task is retried): what was stored is queued all the same
                self._queue_accepted(report, job_id)
        except Unavailable as exc:
            slots = [slot for slot, _ in items]
            waiting = partial(self._fetches_waiting, slots)
            report.outage = self._retry.outage(exc, retries, waiting, "fetch_retry", job_id)
            return report
        log.info(
            "urls_fetched",
            job_id=job_id,
            accepted=len(report.accepted),
            duplicate=report.duplicate,
            failed=len(report.failed),
        )
        return report

    def _take(self, slot: str, url: str, details: UploadDetails, report: UrlDownloadReport) -> None:
        self._jobs.set_fetch(slot, ImageState.fetching)
        try:
            fetched = self._fetcher.fetch(url)
        except FetchFailed as exc:
            report.failed[url] = exc.reason
            self._jobs.set_fetch(slot, ImageState.failed, exc.reason)
            return
        result = self._intake.accept(fetched.filename, fetched.data, details)
        if result.id is None:
            reason = f"{result.http_status}: {result.reason}"
            report.failed[url] = reason
            self._jobs.set_fetch(slot, ImageState.failed, reason)
            return
        self._jobs.set_fetch(slot, ImageState.queued, image_id=result.id)
        if result.status == UploadStatus.accepted:
            report.accepted.append(result.id)
        else:
            report.duplicate += 1

    def _fetches_waiting(self, slots: list[str], reason: str) -> None:
        for slot in slots:
            self._jobs.set_fetch(slot, ImageState.waiting, reason)

    def _queue_accepted(self, report: UrlDownloadReport, job_id: str) -> None:
        queue_for_indexing(self._jobs, self._queue, report.accepted, job_id, self._batch_size)
