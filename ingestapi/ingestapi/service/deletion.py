"""Deleting images, everywhere they left something."""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Protocol

from ingestapi.schemas import DeleteItem, DeleteResponse
from shared.errors import NotFound, Unavailable
from shared.ids import image_keys, is_content_id, original_key
from shared.log import get_logger
from shared.state import JobStore
from shared.storage import ObjectStore
from shared.vectors import IndexLookup
from shared.webhooks.events import image_deleted
from shared.webhooks.webhook import Event

log = get_logger(__name__)
# object stats at once while finding which of many ids exist
STAT_THREADS = 8


class LibraryIndex(IndexLookup, Protocol):
    def delete(self, image_ids: Sequence[str]) -> None: ...

    def edit(
        self, image_id: str, caption: str | None, tags: Sequence[str] | None
    ) -> dict[str, object] | None: ...


class ImageCache(Protocol):
    def forget(self, image_ids: Sequence[str]) -> None: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[Event]) -> int: ...


class DeletionService:
    """A deleted image leaves nothing: no row (in any model's collection), no original, copy
    or details (enrichment's facts with them), no cached bytes in nginx, no place in the
    enrichment backlog; hooks that hear `image.deleted` are told. Its state says `deleted`
    first, so that a task holding it cannot write it back (see IndexPipeline._undo_deleted),
    and the same bytes uploaded again are a fresh upload."""

    def __init__(
        self,
        store: ObjectStore,
        jobs: JobStore,
        index: LibraryIndex,
        cache: ImageCache,
        events: EventPublisher | None = None,
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._index = index
        self._cache = cache
        self._events = events

    def delete_one(self, image_id: str) -> None:
        if self.delete([image_id]).items[0].status != "deleted":
            raise NotFound("no such image")

    def delete(self, image_ids: Sequence[str]) -> DeleteResponse:
        wanted = list(dict.fromkeys(image_ids))
        valid = sorted(i for i in wanted if is_content_id(i))
        with ExitStack() as claims:
            # an upload of the same bytes waits, and then stores them afresh
            for image_id in valid:
                claims.enter_context(self._jobs.claim(image_id))
            known = self._known(valid)
            self._jobs.mark_deleted(known, finished=False)
            self._index.delete(known)
            self._store.delete([key for image_id in known for key in image_keys(image_id)])
            self._cache.forget(known)
            self._jobs.mark_deleted(known)
            # nothing left to enrich: the backlog never counts a deleted image
            self._jobs.enrich_finished(known)
        if known:
            log.info("images_deleted", images=len(known))
            self._tell_hooks(known)
        found = set(known)
        return DeleteResponse(
            items=[
                DeleteItem(id=i, status="deleted", http_status=204)
                if i in found
                else DeleteItem(id=i, status="not_found", reason="no such image", http_status=404)
                for i in wanted
            ]
        )

    def _tell_hooks(self, deleted: list[str]) -> None:
        """The delete is done whatever happens here: a fault queuing its events is logged, not
        answered (a delete asked again finds nothing, and would publish nothing)."""
        if self._events is None:
            return
        try:
            self._events.publish([image_deleted(i) for i in deleted])
        except Unavailable as exc:
            log.error("image_deleted_events_lost", images=deleted[:20], reason=exc.detail)

    def _known(self, image_ids: list[str]) -> list[str]:
        """The ids with anything left: an original, a row, or a delete not finished."""
        known = set(self._index.get(image_ids)) | self._jobs.unfinished_deletes(image_ids)
        rest = [i for i in image_ids if i not in known]
        with ThreadPoolExecutor(STAT_THREADS) as pool:
            stored = pool.map(lambda i: self._store.exists(original_key(i)), rest)
            known.update(i for i, here in zip(rest, stored, strict=True) if here)
        return [i for i in image_ids if i in known]
