"""Worker metrics for Prometheus, served by the main worker process on `metrics.port`.

Prefork children record into files in `metrics.dir` (prometheus_client's multiprocess mode);
the main process adds them up when scraped, with the queue depth read from the broker at that
moment. Nothing here runs at import: the container builds WorkerMetrics in the main process
before the children fork. A folder removed under a running worker is made again before the
next recording, and each process then records into new files there (what it had counted is
lost with the old ones); recording never fails a task."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from ingestworker.service.pipeline import IndexReport
from shared.log import get_logger
from shared.queue import TaskQueue

log = get_logger(__name__)
STAGES = ("prepare", "embed", "write", "starved")


class WorkerMetrics:
    def __init__(self, folder: Path | None) -> None:
        """``folder``: where the processes' files go (multiprocess mode); None keeps the
        counts in this process only (nothing serves them)."""
        self._folder = folder
        self._folder_id = 0  # the folder this process's files are in (its inode)
        if folder is not None:
            _start_multiprocess(folder)
            self._folder_id = folder.stat().st_ino
        self._tasks = Counter(
            "imagesearch_worker_tasks_total", "tasks by outcome", ["task", "outcome"], registry=None
        )
        self._batch_images = Histogram(
            "imagesearch_worker_batch_images",
            "images per indexing batch",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=None,
        )
        self._embed_seconds_per_image = Histogram(
            "imagesearch_worker_embed_seconds_per_image",
            "model time per image of a batch",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
            registry=None,
        )
        self._images = Counter(
            "imagesearch_worker_images_total",
            "images a batch finished: indexed, or failed by kind of error (its exception's class)",
            ["outcome", "reason"],
            registry=None,
        )
        self._forward_passes = Counter(
            "imagesearch_worker_forward_passes_total", "model calls on image batches", registry=None
        )
        self._stage_seconds = Counter(
            "imagesearch_worker_stage_seconds_total",
            "busy time by stage (prepare: fetch, decode, derive, summed over its threads; embed; "
            "write: index rows and states; starved: the model waiting for prepared images)",
            ["stage"],
            registry=None,
        )

    def record_batch(self, report: IndexReport) -> None:
        self._recorded(self._record_batch, report)

    def task_finished(self, task: str, outcome: str) -> None:
        self._recorded(lambda: self._tasks.labels(task, outcome).inc())

    def _record_batch(self, report: IndexReport) -> None:
        images = len(report.indexed)
        if images:
            self._images.labels("indexed", "").inc(images)
        for kind in report.failure_kinds.values():
            self._images.labels("failed", kind).inc()
        self._forward_passes.inc(report.forward_passes)
        for stage in STAGES:
            self._stage_seconds.labels(stage).inc(getattr(report, f"{stage}_s"))
        if images:
            self._batch_images.observe(images)
            self._embed_seconds_per_image.observe(report.embed_s / images)

    def _recorded(self, record: Callable[..., None], *args: object) -> None:
        """Records into this process's files, never failing the task that records."""
        if not self._ready():
            return
        try:
            record(*args)
        except OSError as exc:
            log.warning("metrics_not_recorded", error=str(exc))

    def child_exited(self, pid: int) -> None:
        if self._folder is not None:
            mark_process_dead(pid, str(self._folder))  # type: ignore[no-untyped-call]

    def serve(self, port: int, queue: TaskQueue) -> None:
        """In the main worker process: the children's counts, summed, plus the queue depth."""
        registry = CollectorRegistry()
        if self._folder is not None:
            MultiProcessCollector(registry, path=str(self._folder))  # type: ignore[no-untyped-call]
        registry.register(QueueDepth(queue))
        start_http_server(port, registry=registry)

    def _ready(self) -> bool:
        """This process's files are in the folder: a folder removed (by a cleaner) is made
        again, and files opened in the old one are opened anew in it."""
        if self._folder is None:
            return True
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            folder_id = self._folder.stat().st_ino
        except OSError as exc:
            log.warning("metrics_not_recorded", error=str(exc))
            return False
        if folder_id != self._folder_id:
            self._folder_id = folder_id
            _files.generation += 1
            log.warning("metrics_folder_made_again", folder=str(self._folder))
        return True


class _Files:
    """prometheus_client opens a process's files anew when the process's identifier changes
    (it is made for a fork): a new generation after the folder was made again does the same."""

    generation = 0

    def identifier(self) -> str:
        pid = os.getpid()
        return f"{pid}-{self.generation}" if self.generation else str(pid)


_files = _Files()


def _start_multiprocess(folder: Path) -> None:
    """Before the children fork: an empty folder (what is there is an earlier run's), named
    to every process of this tree."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink(missing_ok=True)
    # children inherit it; each opens its own files there when it first records
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    # prometheus_client chooses how values are kept when it is first imported, which may be
    # before the folder is known: every metric made from here on keeps its values in files
    values.ValueClass = values.MultiProcessValue(_files.identifier)  # type: ignore[no-untyped-call]


class QueueDepth(Collector):
    def __init__(self, queue: TaskQueue) -> None:
        self._queue = queue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("imagesearch_worker_queue_depth", "tasks waiting")
        try:
            gauge.add_metric([], self._queue.depth())
        except Exception:  # an unreachable broker leaves the gauge out of this scrape
            return
        yield gauge
