from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str
    chunks: Iterator[bytes]
    close: Callable[[], None]
    metadata: dict[str, str]


class ObjectStore(Protocol):
    def ensure_bucket(self) -> None: ...

    def put(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        """Store bytes; metadata values may be any text (the adapter encodes them)."""
        ...

    def exists(self, key: str) -> bool: ...

    def open(self, key: str) -> StoredObject:
        """Stream an object; the caller must call ``close`` when done."""
        ...

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Every key under a prefix, streamed page by page."""
        ...

    def ping(self) -> None: ...
