"""Editing an image's caption and tags."""

import json
from collections.abc import Sequence
from typing import Protocol

from ingestapi.schemas import ImageEdit
from shared.errors import Conflict, NotFound
from shared.ids import details_key, is_content_id, original_key
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
            self._save_details(image_id, edit)
            row = self._index.edit(image_id, edit.caption, edit.tags)
        if row is None:
            raise NotFound("no such image")
        log.info("image_edited", image_id=image_id, fields=sorted(edit.model_fields_set))
        return ImageStatus(id=image_id, state="indexed", metadata=row)

    def _save_details(self, image_id: str, edit: ImageEdit) -> None:
        info = self._store.stat(original_key(image_id))
        details: dict[str, object] = {}
        if info.metadata.get("details"):
            try:
                loaded = json.loads(self._store.open(details_key(image_id)).read())
                details = loaded if isinstance(loaded, dict) else {}
            except (NotFound, ValueError):
                details = {}
        details.update(edit.model_dump(exclude_unset=True))
        self._store.put(details_key(image_id), json.dumps(details).encode(), "application/json")
        if not info.metadata.get("details"):
            self._store.set_metadata(original_key(image_id), {"details": "1"})
