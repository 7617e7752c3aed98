"""Worker metrics for Prometheus, served by the main worker process on `metrics.port`.

Prefork children record into files (prometheus_client's multiprocess mode); the main process
adds them up when scraped, with the queue depth read from the broker at that moment.
"""

import os
import tempfile

# prometheus_client picks multiprocess mode when imported: the directory must be set first.
# One per worker process tree (children inherit it), fresh at every start.
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="imagesearch-worker-metrics-")
)

from collections.abc import Iterator
from typing import Any

from celery.signals import task_failure, task_retry, task_success
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ingestworker.service.pipeline import IndexReport
from shared.queue import TaskQueue

TASKS = Counter("imagesearch_worker_tasks_total", "tasks by outcome", ["task", "outcome"])
BATCH_IMAGES = Histogram(
    "imagesearch_worker_batch_images",
    "images per indexing batch",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
EMBED_SECONDS_PER_IMAGE = Histogram(
    "imagesearch_worker_embed_seconds_per_image",
    "model time per image of a batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)

IMAGES = Counter(
    "imagesearch_worker_images_total",
    "images a batch finished: indexed, or failed by kind of error (its exception's class)",
    ["outcome", "reason"],
)
FORWARD_PASSES = Counter("imagesearch_worker_forward_passes_total", "model calls on image batches")
STAGE_SECONDS = Counter(
    "imagesearch_worker_stage_seconds_total",
    "busy time by stage (prepare: fetch, decode, derive, summed over its threads; embed; "
    "write: index rows and states; starved: the model waiting for prepared images)",
    ["stage"],
)


def record_batch(report: IndexReport) -> None:
    images = len(report.indexed)
    if images:
        IMAGES.labels("indexed", "").inc(images)
    for kind in report.failure_kinds.values():
        IMAGES.labels("failed", kind).inc()
    FORWARD_PASSES.inc(report.forward_passes)
    for stage in ("prepare", "embed", "write", "starved"):
        STAGE_SECONDS.labels(stage).inc(getattr(report, f"{stage}_s"))
    if images:
        BATCH_IMAGES.observe(images)
        EMBED_SECONDS_PER_IMAGE.observe(report.embed_s / images)


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


def serve(port: int, queue: TaskQueue) -> None:
    """In the main worker process: the children's counts, summed, plus the queue depth."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(QueueDepth(queue))
    start_http_server(port, registry=registry)


@task_success.connect
def _succeeded(sender: Any = None, **_: Any) -> None:
    TASKS.labels(getattr(sender, "name", "?"), "succeeded").inc()


@task_retry.connect
def _retried(sender: Any = None, **_: Any) -> None:
    TASKS.labels(getattr(sender, "name", "?"), "retried").inc()


@task_failure.connect
def _failed(sender: Any = None, **_: Any) -> None:
    TASKS.labels(getattr(sender, "name", "?"), "failed").inc()
