"""Image bytes by content id, streamed from object storage: the original, or the thumbnail and
preview the worker wrote (made here once, and stored, when one is missing)."""

from typing import Literal

from shared.errors import NotFound
from shared.ids import is_content_id, original_key, preview_key, thumbnail_key
from shared.images import decode_image
from shared.images.derive import DERIVED_TYPE, PREVIEW_PX, THUMBNAIL_PX, derive
from shared.log import get_logger
from shared.storage import ObjectStore, StoredObject

Size = Literal["thumbnail", "preview"]
log = get_logger(__name__)


class ImageService:
    def __init__(
        self,
        store: ObjectStore,
        thumbnail_px: int = THUMBNAIL_PX,
        preview_px: int = PREVIEW_PX,
    ) -> None:
        self._store = store
        self._thumbnail_px = thumbnail_px
        self._preview_px = preview_px

    def open_original(self, image_id: str) -> StoredObject:
        return self._open(image_id, original_key(image_id))

    def open_derived(self, image_id: str, size: Size) -> StoredObject:
        key = thumbnail_key(image_id) if size == "thumbnail" else preview_key(image_id)
        try:
            return self._open(image_id, key)
        except NotFound:
            self._derive(image_id)
            return self._open(image_id, key)

    def _open(self, image_id: str, key: str) -> StoredObject:
        # never let an arbitrary string reach storage as a key
        if not is_content_id(image_id):
            raise NotFound("no such image")
        try:
            return self._store.open(key)
        except NotFound:
            raise NotFound("no such image") from None

    def _derive(self, image_id: str) -> None:
        original = self.open_original(image_id)
        try:
            data = b"".join(original.chunks)
        finally:
            original.close()
        derived = derive(
            decode_image(data, long_side=self._preview_px).image,
            self._thumbnail_px,
            self._preview_px,
        )
        self._store.put(thumbnail_key(image_id), derived.thumbnail, DERIVED_TYPE)
        self._store.put(preview_key(image_id), derived.preview, DERIVED_TYPE)
        log.info("derived_on_demand", image_id=image_id)
