from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ImageRecord:
    id: str
    vector: Sequence[float]
    filename: str
    content_type: str
    width: int
    height: int
    bytes: int
    created_at: int
    taken_at: int | None = None
    camera: str = ""
    caption: str = ""
    tags: Sequence[str] = ()
    source: str = ""
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    fields: dict[str, object]


class IndexLookup(Protocol):
    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        """Stored display fields by id; ids not in the index are absent."""
        ...


class VectorIndex(Protocol):
    @property
    def collection(self) -> str: ...

    def ensure_collection(self) -> None: ...

    def activate(self) -> None:
        """Make this index the live one."""
        ...

    def upsert(self, records: Sequence[ImageRecord]) -> None: ...

    def search(
        self,
        vector: Sequence[float],
        limit: int,
        expr: str = "",
        min_score: float | None = None,
    ) -> list[SearchHit]: ...

    def vector_of(self, image_id: str) -> list[float] | None: ...

    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        """Stored display fields by id; ids not in the index are absent."""
        ...

    def count(self) -> int: ...
