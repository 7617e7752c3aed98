"""Queue again every stored original the live index lacks: object storage is the truth, the
queue only a hint, so losing Redis (queue and job state) loses no image."""

import time
import uuid
from dataclasses import dataclass

from ingestworker.service.originals import stored_ids
from shared.batching import LOOKUP_CHUNK, chunked
from shared.log import get_logger
from shared.queue import TaskQueue
from shared.schemas import ImageState
from shared.state import JobStore
from shared.storage import ObjectStore
from shared.vectors import IndexLookup

log = get_logger(__name__)


@dataclass
class ReconcileReport:
    stored: int = 0
    indexed: int = 0
    in_flight: int = 0
    requeued: int = 0
    job_id: str | None = None


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

    def run(self) -> ReconcileReport:
        """Images queued or processing within stale_after_s are on their way: left alone."""
        report, todo, now = ReconcileReport(), [], time.time()
        ids = stored_ids(self._store)
        report.stored = len(ids)
        for chunk in chunked(ids, LOOKUP_CHUNK):
            present = self._index.get(chunk)
            report.indexed += len(present)
            for image_id in (i for i in chunk if i not in present):
                since = self._jobs.in_flight_since(image_id)
                if since is not None and now - since < self._stale_after_s:
                    report.in_flight += 1
                else:
                    todo.append(image_id)
        if todo:
            report.job_id = f"reconcile-{uuid.uuid4().hex}"
            self._jobs.create_job(report.job_id, [(image_id, "") for image_id in todo])
            for image_id in todo:
                self._jobs.set_state(image_id, ImageState.queued)
            for batch in chunked(todo, self._batch_size):
                self._queue.enqueue_index(batch, report.job_id)
        report.requeued = len(todo)
        log.info("reconciled", **vars(report))
        return report
