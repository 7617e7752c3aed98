"""Definitions kept as JSON objects: a read that comes back torn (an object read while a store
that does not replace objects atomically rewrites it) is read again; one that stays broken
is an error, and never hides the others when they are all listed."""

from datetime import UTC, datetime

import pytest

from shared.evaluation_records import EvaluationRecord, EvaluationStore
from shared.storage.protocol import StoredObject
from tests.unit.fakes import InMemoryObjectStore

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def record(evaluation_id: str) -> EvaluationRecord:
    return EvaluationRecord(
        id=evaluation_id, model="m", sample=10, seed=0, state="queued", created_at=NOW
    )


class TornOnce(InMemoryObjectStore):
    def __init__(self) -> None:
        super().__init__()
        self.torn = 1

    def open(self, key: str, offset: int = 0, length: int | None = None) -> StoredObject:
        found = super().open(key, offset, length)
        if self.torn:
            self.torn -= 1
            data = found.read()[:20]
            return StoredObject(key, len(data), found.content_type, iter([data]), lambda: None, {})
        return found


def test_a_torn_read_is_read_again() -> None:
    store = TornOnce()
    kept = EvaluationStore(store)
    kept.put(record("a" * 32))
    assert kept.get("a" * 32).id == "a" * 32 and store.torn == 0


def test_a_broken_object_is_an_error_and_never_hides_the_others() -> None:
    store = InMemoryObjectStore()
    kept = EvaluationStore(store)
    kept.put(record("a" * 32))
    store.put("model-evaluations/" + "b" * 32 + ".json", b"{not json", "application/json")
    with pytest.raises(ValueError):
        kept.get("b" * 32)
    assert [r.id for r in kept.all()] == ["a" * 32]
