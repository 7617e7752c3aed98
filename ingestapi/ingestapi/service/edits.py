"""Editing an image's caption and tags."""

from collections.abc import Sequence
from typing import Protocol

from ingestapi.schemas import ImageEdit
from shared.details import update_details
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
        self, image_id: str, caption: str | None, tags: Sequence[str] | None
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
            update_details(self._store, image_id, edit.model_dump(exclude_unset=True))
            row = self._index.edit(image_id, edit.caption, edit.tags)
        if row is None:
            raise NotFound("no such image")
        log.info("image_edited", image_id=image_id, fields=sorted(edit.model_fields_set))
        return ImageStatus.indexed(image_id, row)
