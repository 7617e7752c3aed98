from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol


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
    # duplicates, as the worker filed the image (ingestworker.stages.near_duplicates)
    phash: str = ""
    dup_of: str = ""
    shot_of: str = ""
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    fields: dict[str, object]
    vector: Sequence[float] | None = None  # the stored vector, where the search was asked for it


@dataclass(frozen=True)
class ImageFilter:
    """What a search keeps, as values; each adapter turns it into its own query language."""

    taken_from: int | None = None  # epoch seconds, inclusive; images without a date taken fail
    taken_to: int | None = None
    created_from: int | None = None
    created_to: int | None = None
    tags: tuple[str, ...] = ()
    tags_mode: Literal["any", "all"] = "any"
    content_types: tuple[str, ...] = ()
    min_width: int | None = None
    min_height: int | None = None
    source: str | None = None
    place: str | None = None  # a town, region, country or country code (enrichment's)
    auto_tags: tuple[str, ...] = ()  # the vocabulary's (enrichment's), as tags_mode says
    camera: str | None = None
    exclude_ids: tuple[str, ...] = ()


class IndexLookup(Protocol):
    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        """Stored display fields by id; ids not in the index are absent."""
        ...


class VectorIndex(Protocol):
    @property
    def collection(self) -> str: ...

    @property
    def has_keywords(self) -> bool:
        """Whether keyword_search can answer (the server has BM25)."""
        ...

    def ping(self) -> None:
        """Raises Unavailable when the index does not answer."""
        ...

    def ensure_collection(self) -> None: ...

    def activate(self) -> None:
        """Make this index the live one."""
        ...

    def upsert(self, records: Sequence[ImageRecord]) -> None: ...

    def delete(self, image_ids: Sequence[str]) -> None:
        """Remove these rows; ids not in the index are no error."""
        ...

    def search(
        self,
        vector: Sequence[float],
        limit: int,
        where: ImageFilter | None = None,
        min_score: float | None = None,
    ) -> list[SearchHit]:
        """Nearest by cosine, best first, among the images ``where`` keeps; with ``min_score``
        only scores above it."""
        ...

    def keyword_search(
        self,
        tokens: Sequence[str],
        limit: int,
        where: ImageFilter | None = None,
        with_vectors: bool = False,
    ) -> list[SearchHit]:
        """Best BM25 matches of these index words (``caption:red``: shared.keywords), best
        first, among the images ``where`` keeps, each with its stored vector if asked; empty
        without a keyword side."""
        ...

    def nearest(
        self, vectors: Sequence[Sequence[float]], limit: int, min_score: float
    ) -> list[list[SearchHit]]:
        """For each vector, the rows scoring above ``min_score``, best first."""
        ...

    def vector_of(self, image_id: str) -> list[float] | None: ...

    def vectors_of(self, image_ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors by id; ids not in the index are absent."""
        ...

    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        """Stored display fields by id; ids not in the index are absent."""
        ...

    def rows(
        self, where: ImageFilter | None, fields: Sequence[str], limit: int
    ) -> list[dict[str, object]]:
        """Up to ``limit`` rows ``where`` keeps, in no order, with these fields."""
        ...

    def count(self) -> int: ...
