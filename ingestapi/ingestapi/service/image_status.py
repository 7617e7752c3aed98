"""One image's state: where it is, whether it needs uploading, indexing it again."""

import time
import uuid
from collections.abc import Sequence
from typing import Protocol

from ingestapi.schemas import RetryResponse
from shared.batching import LOOKUP_CHUNK, chunked
from shared.errors import Conflict, NotFound
from shared.ids import is_content_id, original_key
from shared.intake import queue_for_indexing
from shared.log import get_logger
from shared.queue import TaskQueue
from shared.schemas import ImageState, ImageStatus
from shared.state import JobStore, StateReads, in_hand
from shared.storage import ObjectStore
from shared.vectors import IndexLookup

log = get_logger(__name__)

# reads of the index before an image that Redis calls indexed is taken for one the index lacks:
# a server whose upsert is a delete then an insert (milvus-lite) misses a row while enrichment
# or an edit rewrites it
INDEX_READS = 3
INDEX_REREAD_WAIT_S = 0.05


class KnownImagesService:
    """Which of these content ids need no upload: indexed, or in hand (shared.state.in_hand)."""

    def __init__(self, jobs: StateReads, index: IndexLookup) -> None:
        self._jobs = jobs
        self._index = index

    def known(self, image_ids: Sequence[str]) -> list[str]:
        wanted = list(dict.fromkeys(image_ids))
        found: set[str] = set()
        for chunk in chunked(wanted, LOOKUP_CHUNK):
            found.update(self._index.get(chunk))
        rest = [i for i in wanted if i not in found]
        progress, now = self._jobs.progress_of(rest), time.time()
        found.update(i for i in rest if in_hand(progress.get(i), now))
        return [i for i in wanted if i in found]


class DetailsLookup(Protocol):
    def details(self, image_id: str) -> dict[str, object] | None:
        """One indexed image's fields, its details included; None when not indexed."""
        ...


class ImageStatusService:
    def __init__(self, store: ObjectStore, jobs: StateReads, index: DetailsLookup) -> None:
        self._store = store
        self._jobs = jobs
        self._index = index

    def get(self, image_id: str) -> ImageStatus:
        """The index is the truth for 'indexed', storage for 'accepted'; Redis tells the rest."""
        if not is_content_id(image_id):
            raise NotFound("no such image")
        state, reason = self._jobs.state_and_reason(image_id)
        if state == ImageState.deleted:
            raise NotFound("no such image")
        if row := self._indexed_row(image_id, state):
            return ImageStatus.indexed(image_id, row)
        if state is not None and state != ImageState.indexed:
            return ImageStatus(id=image_id, state=state.value, reason=reason)
        if self._store.exists(original_key(image_id)):
            return ImageStatus(id=image_id, state="stored")
        raise NotFound("no such image")

    def _indexed_row(self, image_id: str, state: ImageState | None) -> dict[str, object] | None:
        row = self._index.details(image_id)
        for _ in range(INDEX_READS - 1):
            if row or state != ImageState.indexed:
                break
            time.sleep(INDEX_REREAD_WAIT_S)  # in the thread pool: the route runs it there
            row = self._index.details(image_id)
        return row


class RetryService:
    """Index again an image that failed (or was never queued), on request."""

    def __init__(
        self, store: ObjectStore, jobs: JobStore, index: IndexLookup, queue: TaskQueue
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._index = index
        self._queue = queue

    def retry(self, image_id: str) -> RetryResponse:
        if not is_content_id(image_id) or not self._store.exists(original_key(image_id)):
            raise NotFound("no such image")
        if self._index.get([image_id]):
            raise Conflict("already indexed")
        state = self._jobs.state_of(image_id)
        if state is not None and state.pending:
            raise Conflict(f"already on its way ({state.value})")
        job_id = uuid.uuid4().hex
        self._jobs.create_job(job_id, [(image_id, "")])
        queue_for_indexing(self._jobs, self._queue, [image_id], job_id, batch_size=1)
        log.info("image_retried", image_id=image_id, job_id=job_id, was=state)
        return RetryResponse(id=image_id, state=ImageState.queued.value, job_id=job_id)
