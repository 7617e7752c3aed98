"""Queueing images for indexing, so that `queued` always means a task holds the image."""

from collections.abc import Sequence
from contextlib import suppress

from shared.batching import chunked
from shared.errors import Unavailable
from shared.queue import TaskQueue
from shared.schemas import ImageState
from shared.state import JobStore


def queue_for_indexing(
    jobs: JobStore, queue: TaskQueue, image_ids: Sequence[str], job_id: str, batch_size: int
) -> None:
    """One task per batch. Marked queued before the task is sent (a worker may take it at
    once); if the queue refuses it, marked stored again: nothing holds it, and once
    STORED_GRACE_S has passed uploads, /check and reconcile treat it as not queued."""
    for batch in chunked(list(dict.fromkeys(image_ids)), batch_size):
        jobs.set_states(batch, ImageState.queued)
        try:
            queue.enqueue_index(batch, job_id)
        except Unavailable:
            with suppress(Unavailable):
                jobs.set_states(batch, ImageState.stored)
            raise
