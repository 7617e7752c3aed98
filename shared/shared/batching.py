"""Cutting work into pieces: look-ups of at most LOOKUP_CHUNK ids, tasks of a batch size."""

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
# ids per index or state look-up: one request each, well under Milvus' expression limits
LOOKUP_CHUNK = 500


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
