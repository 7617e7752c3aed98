from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from shared.schemas import ImageState, JobStatus

# how long an image stays `stored` while the request that stored it queues its task; past
# this nothing queued it (the request died part-way): it is no one's, and reconcile takes it
STORED_GRACE_S = 60.0


def in_hand(progress: tuple[ImageState, float] | None, now: float) -> bool:
    """Whether an image with this (state, since) needs no new task."""
    if progress is None:
        return False
    state, since = progress
    if state == ImageState.stored:
        return now - since < STORED_GRACE_S
    return state.in_hand


class ImageStates(Protocol):
    """What indexing writes: an image's state as it moves through the stages."""

    def set_state(self, image_id: str, state: ImageState, reason: str | None = None) -> bool:
        """False, and nothing written, when the image was deleted meanwhile."""
        ...

    def deleted_among(self, image_ids: Sequence[str]) -> set[str]: ...


class StateReads(Protocol):
    """What the APIs and reconcile read and set about many images at once."""

    def state_of(self, image_id: str) -> ImageState | None: ...

    def state_and_reason(self, image_id: str) -> tuple[ImageState | None, str | None]: ...

    def states_of(self, image_ids: Sequence[str]) -> dict[str, ImageState]:
        """States of the ids that have one."""
        ...

    def progress_of(self, image_ids: Sequence[str]) -> dict[str, tuple[ImageState, float]]:
        """The state of each id that has one, and when it last changed (epoch seconds)."""
        ...

    def state_counts(self) -> dict[ImageState, int]:
        """How many images are in each pending or failed state."""
        ...

    def set_states(self, image_ids: Sequence[str], state: ImageState) -> None:
        """One state for many images, in one round trip (deleted ones keep theirs)."""
        ...


class Intakes(Protocol):
    """What storing an upload needs: one request at a time per content id."""

    def claim(self, image_id: str) -> AbstractContextManager[None]:
        """Hold this content id alone (across processes) while deciding whether to store it."""
        ...

    def set_stored(self, image_id: str) -> None:
        """A fresh upload of these bytes: `stored`, whatever the state was (deleted too)."""
        ...


class Jobs(Protocol):
    """Upload jobs: the items one request brought, and their downloads."""

    def create_job(self, job_id: str, items: Sequence[tuple[str, str]]) -> None: ...

    def get_job(self, job_id: str) -> JobStatus | None: ...

    def add_fetches(self, job_id: str, urls: Sequence[str]) -> list[str]:
        """URL items of a job, to be downloaded; returns one slot key per URL."""
        ...

    def set_fetch(
        self,
        slot: str,
        state: ImageState,
        reason: str | None = None,
        image_id: str | None = None,
    ) -> None:
        """A download's progress; once stored, ``image_id`` links it to the image's state."""
        ...


class Deletions(Protocol):
    def mark_deleted(self, image_ids: Sequence[str], finished: bool = True) -> None:
        """Deleted: no task may change that state again. Unfinished while the delete is still
        removing what the image left (a delete cut short stays unfinished, to be run again)."""
        ...

    def unfinished_deletes(self, image_ids: Sequence[str]) -> set[str]: ...


class CrashCounts(Protocol):
    """Deliveries of a task that never finished: each one's worker process died under it."""

    def start_delivery(self, task_id: str) -> int:
        """Count a delivery of this task; returns how many earlier ones never finished."""
        ...

    def end_delivery(self, task_id: str) -> None:
        """This delivery finished (ran, failed or asked for a retry): it was no crash."""
        ...


class EnrichBacklog(Protocol):
    """Images indexed and queued for enrichment that it has not finished yet."""

    def add_to_enrich(self, image_ids: Sequence[str]) -> None: ...

    def enrich_finished(self, image_ids: Sequence[str]) -> None: ...

    def enrich_backlog(self) -> int: ...

    def enrich_queued_since(self, image_ids: Sequence[str]) -> dict[str, float]:
        """When each of these was queued for enrichment (epoch seconds); absent: not in the
        backlog."""
        ...


class JobStore(
    ImageStates, StateReads, Intakes, Jobs, Deletions, CrashCounts, EnrichBacklog, Protocol
):
    """Every role, as one Redis adapter (RedisJobStore) plays them; a service names the roles
    it uses."""

    def ping(self) -> None: ...
