from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from shared.schemas import ImageState, JobStatus


class ImageStates(Protocol):
    def set_state(self, image_id: str, state: ImageState, reason: str | None = None) -> None: ...


class JobStore(ImageStates, Protocol):
    def create_job(self, job_id: str, items: Sequence[tuple[str, str]]) -> None: ...

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

    def state_of(self, image_id: str) -> ImageState | None: ...

    def states_of(self, image_ids: Sequence[str]) -> dict[str, ImageState]:
        """States of the ids that have one."""
        ...

    def claim(self, image_id: str) -> AbstractContextManager[None]:
        """Hold this content id alone (across processes) while deciding whether to store it."""
        ...

    def state_and_reason(self, image_id: str) -> tuple[ImageState | None, str | None]: ...

    def progress_of(self, image_ids: Sequence[str]) -> dict[str, tuple[ImageState, float]]:
        """The state of each id that has one, and when it last changed (epoch seconds)."""
        ...

    def get_job(self, job_id: str) -> JobStatus | None: ...

    def ping(self) -> None: ...
