"""Indexing gathered from many tasks: twenty one-image uploads fill a forward pass as one
twenty-image upload does. Each task keeps its own fate:

- an image that fails, fails alone (the pipeline's rule), whichever task brought it;
- an outage retries every gathered task, each on its own doubling wait (RetryPolicy);
- a task whose earlier delivery never finished (its batch killed the worker) is not gathered
  again: it goes on as an isolated task, where the crash guard halves it until the culprit is
  alone, so a poison image costs its neighbours in a gathered batch one retry, never a failure.
"""

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial

from ingestworker.metrics import WorkerMetrics
from ingestworker.service.pipeline import IndexPipeline, IndexReport
from ingestworker.service.retry_policy import RetryPolicy, mark_waiting
from shared.errors import Unavailable
from shared.log import get_logger
from shared.queue import TaskQueue
from shared.state import CrashCounts, ImageStates

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
    """What a gathered run hands back to the gathering task (adapters.gathering_task): every
    task it does not name in ``retry_in_s`` is done."""

    index: IndexReport = field(default_factory=IndexReport)
    isolated: list[str] = field(default_factory=list)  # task ids handed on to isolated tasks
    retry_in_s: dict[str, float] = field(default_factory=dict)  # task id → wait (an outage)


class GatheredIndexing:
    def __init__(
        self,
        pipeline: IndexPipeline,
        states: ImageStates,
        crashes: CrashCounts,
        queue: TaskQueue,
        retry: RetryPolicy,
        metrics: WorkerMetrics,
    ) -> None:
        self._pipeline = pipeline
        self._states = states
        self._crashes = crashes
        self._queue = queue
        self._retry = retry
        self._metrics = metrics

    def run(self, deliveries: Sequence[Delivery]) -> GatheredReport:
        report = GatheredReport()
        started: list[Delivery] = []
        try:
            gathered = []
            for delivery in deliveries:
                crashes = self._crashes.start_delivery(delivery.task_id)
                started.append(delivery)
                if crashes:
                    self._isolate(delivery, crashes)
                    report.isolated.append(delivery.task_id)
                else:
                    gathered.append(delivery)
            report.index = self._pipeline.run([i for d in gathered for i in d.image_ids])
            self._metrics.record_batch(report.index)
        except Unavailable as exc:
            for delivery in deliveries:
                if delivery.task_id not in report.isolated:
                    waiting = partial(mark_waiting, self._states, delivery.image_ids)
                    outage = self._retry.outage(
                        exc, delivery.retries, waiting, job_id=delivery.job_id
                    )
                    report.retry_in_s[delivery.task_id] = outage.wait_s
        finally:
            for delivery in started:
                with suppress(Unavailable):  # the count then expires on its own
                    self._crashes.end_delivery(delivery.task_id)
        return report

    def _isolate(self, delivery: Delivery, crashes: int) -> None:
        self._queue.enqueue_isolated(delivery.image_ids, delivery.job_id or "")
        log.warning(
            "delivery_isolated",
            task_id=delivery.task_id,
            images=len(delivery.image_ids),
            crashes=crashes,
        )
