"""Editing an image's caption and tags, and taking auto-tags away."""

from collections.abc import Sequence
from typing import Protocol

from ingestapi.schemas import ImageEdit
from shared.details import read_details, update_details
from shared.enrichment import REMOVED_AUTO_TAGS, carried_facts
from shared.errors import Conflict, NotFound
from shared.ids import is_content_id
from shared.log import get_logger
from shared.schemas import ImageState, ImageStatus
from shared.state import JobStore
from shared.storage import ObjectStore
from shared.vectors import IndexLookup

log = get_logger(__name__)
# object stats at once while finding which of many ids exist
STAT_THREADS = 8


class EditableIndex(IndexLookup, Protocol):
    def edit(
        self,
        image_id: str,
        caption: str | None,
        tags: Sequence[str] | None,
        removed_auto_tags: Sequence[str] | None = None,
    ) -> dict[str, object] | None: ...


class EditService:
    """Caption and tags of an indexed image, changed in place: the row keeps its vector (no
    re-embedding) and the details object, which a reindex reads, says the same."""

    def __init__(self, store: ObjectStore, jobs: JobStore, index: EditableIndex) -> None:
        self._store = store
        self._jobs = jobs
        self._index = index

    def edit(self, image_id: str, edit: ImageEdit) -> ImageStatus:
        if not is_content_id(image_id):
            raise NotFound("no such image")
        with self._jobs.claim(image_id):  # never after a delete that is removing its details
            state = self._jobs.state_of(image_id)
            if state == ImageState.deleted or not self._index.get([image_id]):
                if state not in (None, ImageState.deleted) and state != ImageState.indexed:
                    raise Conflict(f"not indexed yet ({state.value}): edit it once it is")
                raise NotFound("no such image")
            update_details(self._store, image_id, self._details_changes(image_id, edit))
            row = self._index.edit(image_id, edit.caption, edit.tags, edit.removed_auto_tags)
        if row is None:
            raise NotFound("no such image")
        log.info("image_edited", image_id=image_id, fields=sorted(edit.model_fields_set))
        return ImageStatus.indexed(image_id, row)

    def _details_changes(self, image_id: str, edit: ImageEdit) -> dict[str, object]:
        """Caption and tags as sent; auto-tags taken away go with enrichment's facts (what a
        reindex carries), so they stay away."""
        changes = edit.model_dump(exclude_unset=True, exclude={"removed_auto_tags"})
        if edit.removed_auto_tags is not None:
            facts = read_details(self._store, image_id).get("facts")
            saved = dict(facts) if isinstance(facts, dict) else {}
            changes["facts"] = carried_facts({**saved, REMOVED_AUTO_TAGS: edit.removed_auto_tags})
        return changes
