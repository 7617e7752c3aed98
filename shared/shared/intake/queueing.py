"""Queueing images for indexing, so that `queued` always means a task holds the image."""

from collections.abc import Sequence
from contextlib import suppress

from shared.batching import chunked
from shared.errors import Unavailable
from shared.log import get_logger
from shared.queue import TaskQueue
from shared.schemas import ImageState
from shared.state import JobStore

log = get_logger(__name__)
RECHECK_EVERY_TASKS = 8


def queue_for_indexing(
    jobs: JobStore,
    queue: TaskQueue,
    image_ids: Sequence[str],
    job_id: str,
    batch_size: int,
    max_queue: int | None = None,
) -> int:
    """One task per batch; the number of images queued. Marked queued before the task is sent
    (a worker may take it at once); if the queue refuses it, marked stored again: nothing
    holds it, and once STORED_GRACE_S has passed uploads, /check and reconcile treat it as not
    queued. Past ``max_queue`` waiting tasks the rest stay stored for reconcile to queue."""
    queued = 0
    for n, batch in enumerate(chunked(list(dict.fromkeys(image_ids)), batch_size)):
        # the caller looked just before: look again every few tasks
        looks = n > 0 and n % RECHECK_EVERY_TASKS == 0
        if max_queue is not None and looks and queue.depth() > max_queue:
            log.warning("queue_full_left_stored", images=len(image_ids) - queued, job_id=job_id)
            return queued
        jobs.set_states(batch, ImageState.queued)
        try:
            queue.enqueue_index(batch, job_id)
        except Unavailable:
            with suppress(Unavailable):
                jobs.set_states(batch, ImageState.stored)
            raise
        queued += len(batch)
    return queued
