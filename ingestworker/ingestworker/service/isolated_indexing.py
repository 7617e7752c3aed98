"""A batch indexed on its own, under the crash guard: for tasks whose gathered batch killed a
worker, and the halves the guard splits them into."""

from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial

from ingestworker.metrics import WorkerMetrics
from ingestworker.service.crash_guard import CrashGuard, Split
from ingestworker.service.pipeline import IndexPipeline, IndexReport
from ingestworker.service.retry_policy import Outage, RetryPolicy, mark_waiting
from shared.errors import Unavailable
from shared.state import ImageStates


@dataclass
class IsolatedReport:
    index: IndexReport = field(default_factory=IndexReport)
    split: Split | None = None  # run no more: split in two, or its one image failed
    outage: Outage | None = None  # retry the task after outage.wait_s


class IsolatedIndexing:
    def __init__(
        self,
        guard: CrashGuard,
        pipeline: IndexPipeline,
        states: ImageStates,
        retry: RetryPolicy,
        metrics: WorkerMetrics,
    ) -> None:
        self._guard = guard
        self._pipeline = pipeline
        self._states = states
        self._retry = retry
        self._metrics = metrics

    def run(
        self, task_id: str, image_ids: list[str], job_id: str | None, retries: int
    ) -> IsolatedReport:
        report = IsolatedReport()
        try:
            report.split = self._guard.enter(task_id, image_ids, job_id)
            if report.split is not None:
                return report
            try:
                report.index = self._pipeline.run(image_ids)
            finally:
                with suppress(Unavailable):
                    self._guard.leave(task_id)
        except Unavailable as exc:
            waiting = partial(mark_waiting, self._states, image_ids)
            report.outage = self._retry.outage(exc, retries, waiting, job_id=job_id)
            return report
        self._metrics.record_batch(report.index)
        return report
