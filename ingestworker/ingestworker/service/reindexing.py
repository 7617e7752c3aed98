"""Re-embed every stored original into another model's collection, then make it live.

Resumable: originals already in the target are skipped, so an interrupted run picks up where
it stopped. The live collection keeps serving search until the single switch at the end.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ingestworker.service.originals import stored_ids
from ingestworker.service.pipeline import IndexPipeline
from shared.batching import LOOKUP_CHUNK, chunked
from shared.schemas import ImageState
from shared.state import ImageStates
from shared.storage import ObjectStore
from shared.vectors import VectorIndex


class ReindexStates:
    """A reindex writes no upload state, but heeds deletes: an image deleted while the reindex
    holds it is skipped, or removed again from the target once written (IndexPipeline)."""

    def __init__(self, jobs: ImageStates | None = None) -> None:
        self._jobs = jobs

    def set_state(self, image_id: str, state: ImageState, reason: str | None = None) -> bool:
        return not self.deleted_among([image_id])

    def deleted_among(self, image_ids: Sequence[str]) -> set[str]:
        return self._jobs.deleted_among(image_ids) if self._jobs else set()


@dataclass
class ReindexReport:
    indexed: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    switched: bool = False


class ReindexService:
    def __init__(
        self, store: ObjectStore, target: VectorIndex, pipeline: IndexPipeline, batch_size: int
    ) -> None:
        """``pipeline`` writes into ``target`` and keeps no upload state (ReindexStates)."""
        self._store = store
        self._target = target
        self._pipeline = pipeline
        self._batch_size = batch_size

    def pending(self) -> tuple[list[str], int]:
        """Stored ids not yet in the target, and how many are there already."""
        stored = stored_ids(self._store)
        present: set[str] = set()
        for chunk in chunked(stored, LOOKUP_CHUNK):
            present.update(self._target.get(chunk))
        return [i for i in stored if i not in present], len(present)

    def build(self, on_batch: Callable[[int, int], None] | None = None) -> ReindexReport:
        """Fill the target; a second pass catches originals uploaded meanwhile."""
        report = ReindexReport()
        for attempt in range(2):
            todo, present = self.pending()
            todo = [i for i in todo if i not in report.failed]
            if attempt == 0:
                report.skipped = present
            if not todo:
                break
            for batch in chunked(todo, self._batch_size):
                result = self._pipeline.run(batch)
                report.indexed += len(result.indexed)
                report.failed.update(result.failed)
                if on_batch:
                    on_batch(len(batch), len(todo))
        return report

    def switch(self, report: ReindexReport) -> None:
        self._target.activate()
        report.switched = True
