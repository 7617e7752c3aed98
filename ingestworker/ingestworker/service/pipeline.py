"""Indexing a batch through the stages (ingestworker.stages): prepare → embed → the row stages
(file duplicates, write).

They overlap, as rclip's loader thread does: threads prepare the next chunks while the model
runs on this one, and one thread runs the row stages on the finished chunk. On a CPU the model
is most of the cost; everything else hides behind it only if it never waits its turn."""

import contextvars
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ingestworker.stages import BatchOutcome, Embed, Prepare, PreparedImage, Row, RowStage
from shared.log import get_logger
from shared.state import ImageStates
from shared.telemetry import tracer

log = get_logger(__name__)
_tracer = tracer(__name__)


@dataclass
class IndexReport:
    indexed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # what kind of error failed each image (its exception's class): a small set, for metrics
    failure_kinds: dict[str, str] = field(default_factory=dict)
    # busy time per stage: prepare is summed over its threads, so the stages can add up to
    # more than the wall time when they overlap
    prepare_s: float = 0.0
    embed_s: float = 0.0
    write_s: float = 0.0  # every row stage
    forward_passes: int = 0
    # how long the model waited for prepared images: the overlap's shortfall
    starved_s: float = 0.0


# chunks prepared ahead of the one in the model: enough to never wait, few enough that a
# batch holds at most this many chunks' model-size pixels
CHUNKS_AHEAD = 2


class IndexPipeline:
    def __init__(
        self,
        prepare: Prepare,
        embed: Embed,
        row_stages: Sequence[RowStage],
        states: ImageStates,
        batch_size: int = 32,
        prepare_threads: int = 2,
    ) -> None:
        self._prepare = prepare
        self._embed = embed
        self._row_stages = list(row_stages)
        self._states = states
        self._batch_size = batch_size
        self._prepare_threads = prepare_threads

    def run(self, image_ids: Sequence[str]) -> IndexReport:
        """Index a batch. Whatever goes wrong with one image fails that image alone, with the
        reason; an outage of storage, Redis or Milvus raises Unavailable for a retry."""
        started = time.perf_counter()
        ids = list(dict.fromkeys(image_ids))
        chunks = [ids[i : i + self._batch_size] for i in range(0, len(ids), self._batch_size)]
        report, outcome, lock = IndexReport(), BatchOutcome(self._states), threading.Lock()
        prepare = ThreadPoolExecutor(self._prepare_threads, thread_name_prefix="prepare")
        writer = ThreadPoolExecutor(1, thread_name_prefix="write")

        def timed_prepare(image_id: str) -> PreparedImage | None:
            began = time.perf_counter()
            try:
                return self._prepare(image_id, outcome)
            finally:
                with lock:
                    report.prepare_s += time.perf_counter() - began

        def submit(chunk: list[str]) -> list[Future[PreparedImage | None]]:
            # each image's spans belong to the batch's trace: its context goes with it
            return [
                prepare.submit(contextvars.copy_context().run, timed_prepare, image_id)
                for image_id in chunk
            ]

        try:
            ahead = deque(submit(chunk) for chunk in chunks[:CHUNKS_AHEAD])
            writes: list[Future[list[Row]]] = []
            for n in range(len(chunks)):
                waited_at = time.perf_counter()
                prepared = [image for image in (f.result() for f in ahead.popleft()) if image]
                report.starved_s += time.perf_counter() - waited_at
                if n + CHUNKS_AHEAD < len(chunks):
                    ahead.append(submit(chunks[n + CHUNKS_AHEAD]))
                _raise_failed_write(writes)  # an index outage stops the batch before the model
                with _tracer.start_as_current_span("embed", attributes={"images": len(prepared)}):
                    began = time.perf_counter()
                    rows = self._embed(prepared, outcome)
                    report.embed_s += time.perf_counter() - began
                run_in_context = contextvars.copy_context().run
                writes.append(writer.submit(run_in_context, self._rows, rows, outcome, report))
            indexed = [row for write in writes for row in write.result()]
        finally:
            # an outage stops the batch: what is not started yet never starts
            prepare.shutdown(wait=True, cancel_futures=True)
            writer.shutdown(wait=True, cancel_futures=True)
        report.indexed = [row.image_id for row in indexed]
        report.failed, report.failure_kinds = outcome.failed, outcome.failure_kinds
        report.forward_passes = outcome.forward_passes
        log.info(
            "batch_indexed",
            indexed=len(indexed),
            failed=len(report.failed),
            forward_passes=report.forward_passes,
            prepare_ms=_ms(report.prepare_s),
            embed_ms=_ms(report.embed_s),
            write_ms=_ms(report.write_s),
            starved_ms=_ms(report.starved_s),
            took_ms=_ms(time.perf_counter() - started),
        )
        return report

    def _rows(self, rows: list[Row], outcome: BatchOutcome, report: IndexReport) -> list[Row]:
        """The row stages in order, on the writer thread."""
        with _tracer.start_as_current_span("index_write", attributes={"images": len(rows)}):
            began = time.perf_counter()
            for stage in self._row_stages:
                rows = stage(rows, outcome)
            report.write_s += time.perf_counter() - began
            return rows


def _raise_failed_write(writes: list[Future[list[Row]]]) -> None:
    for write in writes:
        if write.done() and (error := write.exception()) is not None:
            raise error


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
