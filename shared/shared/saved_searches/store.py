"""Saved searches in object storage, one JSON object each under ``saved-searches/``."""

import json
import uuid
from collections.abc import Iterator

from shared.errors import NotFound
from shared.log import get_logger
from shared.saved_searches.definition import SavedSearch
from shared.storage import ObjectStore

log = get_logger(__name__)
PREFIX = "saved-searches/"
# rewritten on every change: what a worker checks before it reads them all again
CHANGED_KEY = "saved-searches.changed"


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

    def mark_changed(self) -> None:
        self._store.put(CHANGED_KEY, uuid.uuid4().hex.encode(), "text/plain")

    def version(self) -> str:
        """Changes with every change of any saved search ("" before the first)."""
        try:
            return self._store.open(CHANGED_KEY).read().decode(errors="replace")
        except NotFound:
            return ""
