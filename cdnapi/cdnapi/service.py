"""Image bytes by content id, streamed from object storage: the original, or the thumbnail and
preview the worker wrote (made here once, and stored, when one is missing).

Copies made here are made one at a time per process, from originals whose decoding fits
``on_demand.max_pixels``: requests for many missing thumbnails cannot multiply the memory of a
full-size decode."""

import threading
from collections.abc import Callable
from typing import Literal, TypeVar

from shared.config import Limit
from shared.errors import NotFound, PayloadTooLarge
from shared.ids import is_content_id, original_key, preview_key, thumbnail_key
from shared.images import PREVIEW_PX, THUMBNAIL_PX, decode_image, store_derived
from shared.log import get_logger
from shared.storage import ObjectInfo, ObjectStore, StoredObject

Size = Literal["original", "thumbnail", "preview"]
T = TypeVar("T")
log = get_logger(__name__)
_ONE_AT_A_TIME = threading.Lock()


class ImageService:
    def __init__(
        self,
        store: ObjectStore,
        thumbnail_px: int = THUMBNAIL_PX,
        preview_px: int = PREVIEW_PX,
        max_pixels: Limit | None = None,
    ) -> None:
        self._store = store
        self._thumbnail_px = thumbnail_px
        self._preview_px = preview_px
        self._max_pixels = max_pixels

    @staticmethod
    def check_id(image_id: str) -> None:
        """Never let an arbitrary string reach storage as a key."""
        if not is_content_id(image_id):
            raise NotFound("no such image")

    def still_stored(self, image_id: str) -> bool:
        """Whether the image is still here (not deleted since its bytes began to go out)."""
        return self._store.exists(original_key(image_id))

    def stat(self, image_id: str, size: Size = "original") -> ObjectInfo:
        return self._with_derived(image_id, size, lambda key: self._store.stat(key))

    def open(
        self, image_id: str, size: Size = "original", offset: int = 0, length: int | None = None
    ) -> StoredObject:
        return self._with_derived(image_id, size, lambda key: self._store.open(key, offset, length))

    def _with_derived(self, image_id: str, size: Size, read: Callable[[str], T]) -> T:
        self.check_id(image_id)
        key = _key(image_id, size)
        if size != "original" and not self._store.exists(original_key(image_id)):
            # a copy outlives its original only briefly (a worker that held the image when it
            # was deleted removes what it wrote): never serve it, or nginx would keep it
            raise NotFound("no such image")
        try:
            return read(key)
        except NotFound:
            if size == "original":
                raise NotFound("no such image") from None
        with _ONE_AT_A_TIME:
            try:
                return read(key)  # made meanwhile by another request (or the worker)
            except NotFound:
                self._derive(image_id)
        return read(key)

    def _derive(self, image_id: str) -> None:
        try:
            data = self._store.open(original_key(image_id)).read()
        except NotFound:
            raise NotFound("no such image") from None
        try:
            image = decode_image(
                data, long_side=self._preview_px, max_decoded_pixels=self._max_pixels
            ).image
        except PayloadTooLarge as exc:
            raise NotFound(
                f"no smaller copy yet: the worker makes it when it indexes the image ({exc.detail})"
            ) from None
        store_derived(self._store, image_id, image, self._thumbnail_px, self._preview_px)
        log.info("derived_on_demand", image_id=image_id)


def _key(image_id: str, size: Size) -> str:
    if size == "thumbnail":
        return thumbnail_key(image_id)
    if size == "preview":
        return preview_key(image_id)
    return original_key(image_id)
