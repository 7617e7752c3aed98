from collections.abc import Callable, Iterator, Sequence
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

    def read(self) -> bytes:
        """Every byte, then closed: for objects small enough to hold whole."""
        try:
            return b"".join(self.chunks)
        finally:
            self.close()


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    metadata: dict[str, str]


class ObjectStore(Protocol):
    def ensure_bucket(self) -> None: ...

    def put(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        """Store bytes; metadata values may be any text (the adapter encodes them)."""
        ...

    def exists(self, key: str) -> bool: ...

    def open(self, key: str, offset: int = 0, length: int | None = None) -> StoredObject:
        """Stream an object (or ``length`` bytes of it from ``offset``); the caller must call
        ``close`` when done."""
        ...

    def stat(self, key: str) -> ObjectInfo:
        """Size, type and metadata, without the bytes (NotFound when absent)."""
        ...

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Every key under a prefix, streamed page by page."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        """Remove these objects; keys already absent are no error."""
        ...

    def set_metadata(self, key: str, metadata: dict[str, str]) -> None:
        """Add or change user metadata of a stored object, in place (NotFound when absent)."""
        ...

    def ping(self) -> None: ...
