"""Saved searches in object storage, one JSON object each under ``saved-searches/``."""

import hashlib

from shared.saved_searches.definition import SavedSearch
from shared.storage import ObjectStore
from shared.storage.json_objects import JsonObjects

PREFIX = "saved-searches/"
# rewritten on every change: what a worker checks before it reads them all again
CHANGED_KEY = "saved-searches.changed"
# the uploaded query images, by their sha256 (two searches of one image share it)
IMAGES = "saved-search-images/"


class SavedSearchStore(JsonObjects[SavedSearch]):
    def __init__(self, store: ObjectStore) -> None:
        super().__init__(store, PREFIX, CHANGED_KEY, SavedSearch)
        self._objects = store

    def put_image(self, data: bytes, content_type: str) -> str:
        image_id = hashlib.sha256(data).hexdigest()
        self._objects.put(f"{IMAGES}{image_id}", data, content_type)
        return image_id

    def image(self, image_id: str) -> bytes:
        """NotFound when there is none."""
        return self._objects.open(f"{IMAGES}{image_id}").read()

    def delete_image(self, image_id: str) -> None:
        self._objects.delete([f"{IMAGES}{image_id}"])


def saved_search_key(search_id: str) -> str:
    return f"{PREFIX}{search_id}.json"
