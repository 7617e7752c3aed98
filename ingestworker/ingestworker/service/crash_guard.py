"""Poison images: a file that makes the decoder crash the process or exhaust its memory kills
the worker child under its batch, and the broker hands the batch out again (acks late). The
deliveries that never finished are counted per task; past tasks.max_crashes the batch is not
run again but halved into two new isolated tasks (never gathered with others), until the culprit
is alone: that one fails with the
count, and is never retried automatically (reconcile leaves failed images alone); its failure
is published (image.failed) as the index stages publish theirs."""

from dataclasses import dataclass, field

from shared.log import get_logger
from shared.queue import TaskQueue
from shared.schemas import ImageState
from shared.state import CrashCounts, ImageStates
from shared.webhooks import events
from shared.webhooks.events import EventPublisher

log = get_logger(__name__)


@dataclass
class Split:
    """What a poisoned delivery did instead of running."""

    halves: list[list[str]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class CrashGuard:
    def __init__(
        self,
        crashes: CrashCounts,
        states: ImageStates,
        queue: TaskQueue,
        max_crashes: int,
        published: EventPublisher | None = None,
    ) -> None:
        self._crashes = crashes
        self._states = states
        self._queue = queue
        self._max_crashes = max_crashes
        self._published = published

    def enter(self, task_id: str, image_ids: list[str], job_id: str | None) -> Split | None:
        """At the start of a delivery: None to run it, or the split made in its place."""
        crashes = self._crashes.start_delivery(task_id)
        if crashes < self._max_crashes:
            return None
        self._crashes.end_delivery(task_id)
        if len(image_ids) == 1:
            reason = f"crashed the worker {crashes} time{'s' if crashes != 1 else ''}"
            if self._published is not None:
                self._published.publish([events.image_failed(image_ids[0], reason)])
            self._states.set_state(image_ids[0], ImageState.failed, reason)
            log.error("poison_image", image_id=image_ids[0], crashes=crashes)
            return Split(failed={image_ids[0]: reason})
        half = len(image_ids) // 2
        halves = [image_ids[:half], image_ids[half:]]
        for part in halves:
            self._queue.enqueue_isolated(part, job_id or "")
        log.warning("poison_batch_split", task_id=task_id, crashes=crashes, images=len(image_ids))
        return Split(halves=halves)

    def leave(self, task_id: str) -> None:
        """The delivery ended in the ordinary way (done, failed, or a retry asked for)."""
        self._crashes.end_delivery(task_id)
