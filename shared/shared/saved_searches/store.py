"""Saved searches in object storage, one JSON object each under ``saved-searches/``."""

import json
from collections.abc import Iterator

from shared.errors import NotFound
from shared.log import get_logger
from shared.saved_searches.definition import SavedSearch
from shared.storage import ObjectStore

log = get_logger(__name__)
PREFIX = "saved-searches/"


def saved_search_key(search_id: str) -> str:
    return f"{PREFIX}{search_id}.json"


class SavedSearchStore:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def put(self, search: SavedSearch) -> None:
        data = search.model_dump_json().encode()
        self._store.put(saved_search_key(search.id), data, "application/json")

    def get(self, search_id: str) -> SavedSearch:
        """NotFound when there is none."""
        return SavedSearch.model_validate(
            json.loads(self._store.open(saved_search_key(search_id)).read())
        )

    def all(self) -> Iterator[SavedSearch]:
        for key in self._store.list_keys(PREFIX):
            try:
                yield SavedSearch.model_validate(json.loads(self._store.open(key).read()))
            except NotFound:  # deleted while listed
                continue
            except ValueError as exc:  # one unreadable object never hides the others
                log.warning("saved_search_unreadable", key=key, reason=str(exc)[:200])

    def count(self) -> int:
        return sum(1 for _ in self._store.list_keys(PREFIX))

    def delete(self, search_id: str) -> None:
        self._store.delete([saved_search_key(search_id)])
