"""The one rule for outages: nothing fails because a service was down. A task hit by one waits
with doubling waits up to tasks.max_backoff_s; past tasks.max_retries its items show as
waiting, with the reason, and it goes on retrying at the longest wait."""

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from shared.errors import Unavailable
from shared.log import get_logger
from shared.schemas import ImageState
from shared.state import ImageStates

log = get_logger(__name__)


@dataclass(frozen=True)
class Outage:
    """A task's run cut short by an outage: retry it after ``wait_s``."""

    error: Unavailable
    wait_s: float


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int  # past this many, a task's items show as waiting, with the reason
    max_backoff_s: float

    def wait_s(self, retries: int) -> float:
        return float(min(self.max_backoff_s, 2.0**retries))

    def outage(
        self,
        exc: Unavailable,
        retries: int,
        mark_waiting: Callable[[str], None],
        event: str = "index_retry",
        job_id: str | None = None,
    ) -> Outage:
        """Log the outage and mark the items waiting once the retries run out; how long to
        wait before the next try. ``retries``: the outages this task has already waited out."""
        log.warning(event, job_id=job_id, detail=exc.detail, retry=retries + 1)
        if retries >= self.max_retries:
            with suppress(Unavailable):  # Redis may be the service that is down
                mark_waiting(f"waiting until it answers again: {exc.detail}")
        return Outage(exc, self.wait_s(retries))


def mark_waiting(states: ImageStates, image_ids: Sequence[str], reason: str) -> None:
    for image_id in image_ids:
        states.set_state(image_id, ImageState.waiting, reason)
