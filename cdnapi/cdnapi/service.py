"""Image bytes by content id, streamed from object storage."""

from shared.errors import NotFound
from shared.ids import is_content_id, original_key
from shared.storage import ObjectStore, StoredObject


class ImageService:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def open_original(self, image_id: str) -> StoredObject:
        # never let an arbitrary string reach storage as a key
        if not is_content_id(image_id):
            raise NotFound("no such image")
        try:
            return self._store.open(original_key(image_id))
        except NotFound:
            raise NotFound("no such image") from None
