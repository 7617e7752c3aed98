"""What the index stages hand each other, and what a batch keeps of its failures."""

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from shared.errors import reason_of
from shared.images import DecodedImage
from shared.log import get_logger
from shared.schemas import ImageState
from shared.state import ImageStates

if TYPE_CHECKING:
    from ingestworker.stages.near_duplicates import Keypoints

log = get_logger(__name__)


@dataclass(frozen=True)
class PreparedImage:
    """Fetched, decoded (to the model's size once its copies are written) and fingerprinted."""

    image_id: str
    decoded: DecodedImage
    size: int
    filename: str
    created_at: int
    source: str
    caption: str
    tags: list[str]
    # fingerprints for duplicates, from the thumbnail (cheap, and what a later image that may
    # be a copy of this one reads back from storage)
    phash: str = ""
    keypoints: "Keypoints | None" = None
    # what enrichment found for it before (its details object): a reindex carries it
    facts: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """An embedded image on its way into the index."""

    image: PreparedImage
    vector: Sequence[float]
    # the duplicate groups it joins (FileDuplicates): "" when none
    dup_of: str = ""
    shot_of: str = ""
    # the saved searches it belongs to (MatchSavedSearches): its row's "albums"
    albums: tuple[str, ...] = ()

    @property
    def image_id(self) -> str:
        return self.image.image_id


class BatchOutcome:
    """Images a batch failed, each alone and with its reason, and its forward passes. Stages
    on several threads record into it."""

    def __init__(self, states: ImageStates) -> None:
        self._states = states
        self._lock = threading.Lock()
        self.failed: dict[str, str] = {}
        # what kind of error failed each image (its exception's class): a small set, for metrics
        self.failure_kinds: dict[str, str] = {}
        self.forward_passes = 0

    def fail(self, image_id: str, exc: BaseException) -> None:
        reason = reason_of(exc)
        with self._lock:
            self.failed[image_id] = reason
            self.failure_kinds[image_id] = type(exc).__name__
        self._states.set_state(image_id, ImageState.failed, reason)
        log.warning("image_failed", image_id=image_id, reason=reason)

    def failures(self) -> dict[str, str]:
        """The failures so far, as they are now (other threads may still add)."""
        with self._lock:
            return dict(self.failed)


class RowStage(Protocol):
    """A stage on the writer thread: the rows it passes on, in order; a row it drops failed
    (recorded in the outcome) or is no longer wanted."""

    def __call__(self, rows: list[Row], outcome: BatchOutcome) -> list[Row]: ...
