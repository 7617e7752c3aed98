"""Saved searches in object storage, one JSON object each under ``saved-searches/``."""

from shared.saved_searches.definition import SavedSearch
from shared.storage import ObjectStore
from shared.storage.json_objects import JsonObjects

PREFIX = "saved-searches/"
# rewritten on every change: what a worker checks before it reads them all again
CHANGED_KEY = "saved-searches.changed"


class SavedSearchStore(JsonObjects[SavedSearch]):
    def __init__(self, store: ObjectStore) -> None:
        super().__init__(store, PREFIX, CHANGED_KEY, SavedSearch)


def saved_search_key(search_id: str) -> str:
    return f"{PREFIX}{search_id}.json"
