"""Indexing gathered from many tasks: twenty one-image uploads fill a forward pass as one
twenty-image upload does. Each task keeps its own fate:

- an image that fails, fails alone (the pipeline's rule), whichever task brought it;
- an outage retries every gathered task, each on its own doubling wait;
- a task whose earlier delivery never finished (its batch killed the worker) is not gathered
  again: it goes on as an isolated task, where the crash guard halves it until the culprit is
  alone, so a poison image costs its neighbours in a gathered batch one retry, never a failure.
"""

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from ingestworker.service.pipeline import IndexPipeline, IndexReport
from shared.errors import Unavailable
from shared.log import get_logger
from shared.queue import TaskQueue
from shared.schemas import ImageState
from shared.state import JobStore

log = get_logger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One queued task's share of a gathered batch."""

    task_id: str
    image_ids: list[str]
    job_id: str | None = None
    retries: int = 0  # outages it has already waited out


@dataclass
class GatheredReport:
    index: IndexReport = field(default_factory=IndexReport)
    isolated: list[str] = field(default_factory=list)  # task ids handed on to isolated tasks
    retry_in_s: dict[str, float] = field(default_factory=dict)  # task id → wait (an outage)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int  # past this many, a task's images show as waiting, with the reason
    max_backoff_s: float

    def wait_s(self, retries: int) -> float:
        return float(min(self.max_backoff_s, 2.0**retries))

    @staticmethod
    def waiting_reason(exc: Unavailable) -> str:
        return f"waiting until it answers again: {exc.detail}"


class GatheredIndexing:
    def __init__(
        self, pipeline: IndexPipeline, jobs: JobStore, queue: TaskQueue, retry: RetryPolicy
    ) -> None:
        self._pipeline = pipeline
        self._jobs = jobs
        self._queue = queue
        self._retry = retry

    def run(self, deliveries: Sequence[Delivery]) -> GatheredReport:
        report = GatheredReport()
        started: list[Delivery] = []
        try:
            gathered = []
            for delivery in deliveries:
                crashes = self._jobs.start_delivery(delivery.task_id)
                started.append(delivery)
                if crashes:
                    self._isolate(delivery, crashes)
                    report.isolated.append(delivery.task_id)
                else:
                    gathered.append(delivery)
            report.index = self._pipeline.run([i for d in gathered for i in d.image_ids])
        except Unavailable as exc:
            for delivery in deliveries:
                if delivery.task_id not in report.isolated:
                    report.retry_in_s[delivery.task_id] = self._wait(delivery, exc)
        finally:
            for delivery in started:
                with suppress(Unavailable):  # the count then expires on its own
                    self._jobs.end_delivery(delivery.task_id)
        return report

    def _isolate(self, delivery: Delivery, crashes: int) -> None:
        self._queue.enqueue_isolated(delivery.image_ids, delivery.job_id or "")
        log.warning(
            "delivery_isolated",
            task_id=delivery.task_id,
            images=len(delivery.image_ids),
            crashes=crashes,
        )

    def _wait(self, delivery: Delivery, exc: Unavailable) -> float:
        log.warning(
            "index_retry", job_id=delivery.job_id, detail=exc.detail, retry=delivery.retries + 1
        )
        if delivery.retries >= self._retry.max_retries:
            reason = self._retry.waiting_reason(exc)
            with suppress(Unavailable):  # Redis may be the service that is down
                for image_id in delivery.image_ids:
                    self._jobs.set_state(image_id, ImageState.waiting, reason)
        return self._retry.wait_s(delivery.retries)
