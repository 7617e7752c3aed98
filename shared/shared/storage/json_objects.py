"""Small definitions kept as one JSON object each under a prefix in object storage (saved
searches, webhooks), with a marker object rewritten on every change: a reader checks the
marker (one small read) before it reads them all again (ReloadOnChange)."""

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from pydantic import BaseModel

from shared.errors import NotFound
from shared.log import get_logger
from shared.storage.protocol import ObjectStore

log = get_logger(__name__)


M = TypeVar("M", bound=BaseModel)
# reads of one object before a torn one is taken for a broken one
TORN_READS = 3
T = TypeVar("T")


class JsonObjects(Generic[M]):
    def __init__(self, store: ObjectStore, prefix: str, changed_key: str, model: type[M]) -> None:
        self._store = store
        self._prefix = prefix
        self._changed_key = changed_key
        self._model = model

    def key(self, object_id: str) -> str:
        return f"{self._prefix}{object_id}.json"

    def put(self, item: M) -> None:
        object_id: str = item.id  # type: ignore[attr-defined]  # every kind kept has an id
        self._store.put(self.key(object_id), item.model_dump_json().encode(), "application/json")

    def get(self, object_id: str) -> M:
        """NotFound when there is none."""
        for _ in range(TORN_READS - 1):
            try:
                return self._read(self.key(object_id))
            except ValueError:
                # an object read while it is rewritten can come back torn from a store that
                # does not replace it atomically (s3rver, the local stack's): read it again
                continue
        return self._read(self.key(object_id))

    def _read(self, key: str) -> M:
        return self._model.model_validate(json.loads(self._store.open(key).read()))

    def all(self) -> Iterator[M]:
        for key in self._store.list_keys(self._prefix):
            try:
                yield self._read(key)
            except NotFound:  # deleted while listed
                continue
            except ValueError as exc:  # one unreadable object never hides the others
                log.warning("stored_definition_unreadable", key=key, reason=str(exc)[:200])

    def count(self) -> int:
        return sum(1 for _ in self._store.list_keys(self._prefix))

    def delete(self, object_id: str) -> None:
        self._store.delete([self.key(object_id)])

    def mark_changed(self) -> None:
        self._store.put(self._changed_key, uuid.uuid4().hex.encode(), "text/plain")

    def version(self) -> str:
        """Changes with every change of any of them ("" before the first)."""
        try:
            return self._store.open(self._changed_key).read().decode(errors="replace")
        except NotFound:
            return ""


class ReloadOnChange(Generic[T]):
    """What ``load`` made, made again when ``version`` changes; the version is looked at no
    more often than every ``refresh_s``. Thread-safe; an outage of storage raises (the caller
    retries)."""

    def __init__(
        self,
        version: Callable[[], str],
        load: Callable[[], T],
        initial: T,
        refresh_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._version_of = version
        self._load = load
        self._value = initial
        self._refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._version: str | None = None
        self._checked = float("-inf")

    def get(self) -> T:
        with self._lock:
            now = self._clock()
            if now - self._checked >= self._refresh_s:
                version = self._version_of()
                if version != self._version:
                    self._value = self._load()
                    self._version = version
                self._checked = now
            return self._value
