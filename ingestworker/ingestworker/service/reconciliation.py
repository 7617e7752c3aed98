"""Queue again every stored original the live index lacks: object storage is the truth, the
queue only a hint, so losing Redis (queue and job state) loses no image. The same look finds
indexed images whose enrichment never finished and is no longer on its way: queued again."""

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from ingestworker.service.originals import stored_ids
from shared.batching import LOOKUP_CHUNK, chunked
from shared.enrichment import is_enriched
from shared.intake import queue_for_indexing
from shared.log import get_logger
from shared.queue import TaskQueue
from shared.schemas import ImageState
from shared.state import STORED_GRACE_S, JobStore
from shared.storage import ObjectStore
from shared.vectors import IndexLookup

log = get_logger(__name__)


@dataclass
class ReconcileReport:
    stored: int = 0
    indexed: int = 0
    in_flight: int = 0
    failed: int = 0  # failed for a reason of their own: left alone unless asked
    # deleted while their original was still being removed (or the delete was cut short
    # and will be run again): never queued
    deleted: int = 0
    requeued: int = 0
    job_id: str | None = None
    # indexed, their enrichment neither finished nor on its way (or stale): queued again
    enrich_requeued: int = 0


class ReconcileService:
    def __init__(
        self,
        store: ObjectStore,
        index: IndexLookup,
        jobs: JobStore,
        queue: TaskQueue,
        batch_size: int,
        stale_after_s: float,
    ) -> None:
        self._store = store
        self._index = index
        self._jobs = jobs
        self._queue = queue
        self._batch_size = batch_size
        self._stale_after_s = stale_after_s

    def run(self, retry_failed: bool = False) -> ReconcileReport:
        """Queue again what is stored, not indexed and not on its way: no state at all (Redis
        lost it), or in flight for longer than stale_after_s with nothing left in the queue.
        Waiting images have a task that retries; failed ones failed for a reason of their own
        and are queued again only with ``retry_failed``."""
        report, todo, now = ReconcileReport(), [], time.time()
        unenriched: list[str] = []
        ids = stored_ids(self._store)
        report.stored = len(ids)
        queue_busy = self._queue.depth() > 0
        for chunk in chunked(ids, LOOKUP_CHUNK):
            present = self._index.get(chunk)
            report.indexed += len(present)
            pending = [image_id for image_id, row in present.items() if not is_enriched(row)]
            unenriched += self._enrichment_lost(pending, now)
            missing = [i for i in chunk if i not in present]
            progress = self._jobs.progress_of(missing)
            for image_id in missing:
                state, since = progress.get(image_id, (None, 0.0))
                if state == ImageState.deleted:
                    report.deleted += 1
                elif state == ImageState.failed and not retry_failed:
                    report.failed += 1
                elif state == ImageState.stored:
                    # its request is queueing it now, or died before it could
                    if now - since < STORED_GRACE_S:
                        report.in_flight += 1
                    else:
                        todo.append(image_id)
                elif (
                    state is not None
                    and state.pending
                    and (
                        state == ImageState.waiting
                        or now - since < self._stale_after_s
                        # a long queue: it may well still hold this image's task
                        or (state == ImageState.queued and queue_busy)
                    )
                ):
                    report.in_flight += 1
                else:
                    todo.append(image_id)
        if todo:
            report.job_id = f"reconcile-{uuid.uuid4().hex}"
            self._jobs.create_job(report.job_id, [(image_id, "") for image_id in todo])
            queue_for_indexing(self._jobs, self._queue, todo, report.job_id, self._batch_size)
        report.requeued = len(todo)
        for batch in chunked(unenriched, self._batch_size):
            self._jobs.enrich_finished(batch)  # counted again from now
            self._jobs.add_to_enrich(batch)
            self._queue.enqueue_enrich(batch)
        report.enrich_requeued = len(unenriched)
        log.info("reconciled", **vars(report))
        return report

    def enrich_again(self, names: Sequence[str]) -> int:
        """Queue every indexed image for these enrichments again (after a new tag
        calibration, or a switch to another model: auto-tags are the model's); how many."""
        queued = 0
        for chunk in chunked(stored_ids(self._store), LOOKUP_CHUNK):
            present = list(self._index.get(chunk))
            for batch in chunked(present, self._batch_size):
                self._jobs.add_to_enrich(batch)
                self._queue.enqueue_enrich(batch, only=names)
            queued += len(present)
        log.info("enrichment_queued_again", enrichments=list(names), images=queued)
        return queued

    def _enrichment_lost(self, image_ids: list[str], now: float) -> list[str]:
        """Of these un-enriched images, those not in the backlog (Redis lost it) or in it
        for longer than stale_after_s (their task was lost)."""
        queued = self._jobs.enrich_queued_since(image_ids)
        return [i for i in image_ids if now - queued.get(i, 0.0) >= self._stale_after_s]
