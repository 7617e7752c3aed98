"""searchapi's request parameters and response bodies."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from shared.errors import Unprocessable
from shared.images import CONTENT_TYPES
from shared.schemas import Tags
from shared.vectors import ImageFilter

_TYPES = sorted(set(CONTENT_TYPES.values()))
# results per page, at most
MAX_LIMIT = 200


@dataclass(frozen=True)
class SearchOptions:
    limit: int = 20
    offset: int = 0
    min_score: float | None = None
    cutoff: Literal["auto", "none"] = "none"
    sort: Literal["relevance", "date"] = "relevance"
    filter: ImageFilter = field(default_factory=ImageFilter)


class SearchParams(BaseModel):
    """Paging, cutoffs, order and filters, shared by every kind of query."""

    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, description="results to skip; offset + limit ≤ search.max_depth")
    min_score: float | None = Field(None, ge=-1, le=1, description="only scores above this")
    cutoff: Literal["auto", "none"] = Field(
        "none", description="auto: drop the tail after the largest drop in score"
    )
    sort: Literal["relevance", "date"] = Field(
        "relevance", description="date: newest taken (else uploaded) first, after the cutoffs"
    )
    taken_from: date | datetime | None = None
    taken_to: date | datetime | None = Field(None, description="a date alone: that whole day")
    created_from: date | datetime | None = None
    created_to: date | datetime | None = None
    tags: Tags = Field(default_factory=list)
    tags_mode: Literal["any", "all"] = "any"
    content_type: list[str] = Field(default_factory=list, description=", ".join(_TYPES))
    min_width: int | None = Field(None, ge=1, le=1_000_000)
    min_height: int | None = Field(None, ge=1, le=1_000_000)
    source: str | None = Field(None, min_length=1, max_length=256)

    @field_validator("content_type", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            return values
        return [p.strip() for v in values for p in str(v).split(",") if p.strip()]

    @field_validator("content_type")
    @classmethod
    def _known_type(cls, types: list[str]) -> list[str]:
        for value in types:
            if value not in _TYPES:
                raise ValueError(f"{value[:50]!r} is not one of {', '.join(_TYPES)}")
        return types

    @field_validator("source")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():
            raise ValueError("source must be printable text")
        return value

    @model_validator(mode="after")
    def _ordered_ranges(self) -> "SearchParams":
        for low, high in (("taken_from", "taken_to"), ("created_from", "created_to")):
            start, end = _epoch(getattr(self, low)), _epoch(getattr(self, high), end=True)
            if start is not None and end is not None and start > end:
                raise ValueError(f"{low} is after {high}")
        return self

    def options(self, max_depth: int) -> SearchOptions:
        if self.offset + self.limit > max_depth:
            raise Unprocessable(f"offset + limit must be at most {max_depth} (search.max_depth)")
        return SearchOptions(
            limit=self.limit,
            offset=self.offset,
            min_score=self.min_score,
            cutoff=self.cutoff,
            sort=self.sort,
            filter=ImageFilter(
                taken_from=_epoch(self.taken_from),
                taken_to=_epoch(self.taken_to, end=True),
                created_from=_epoch(self.created_from),
                created_to=_epoch(self.created_to, end=True),
                tags=tuple(self.tags),
                tags_mode=self.tags_mode,
                content_types=tuple(self.content_type),
                min_width=self.min_width,
                min_height=self.min_height,
                source=self.source,
            ),
        )


class SearchItem(BaseModel):
    id: str
    score: float = Field(description="cosine similarity to the query, -1..1")
    url: str = Field(description="the original (signed when reads are protected)")
    thumbnail_url: str
    preview_url: str = Field(description="a copy that fits in 1280 px, JPEG")
    filename: str | None = None
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    taken_at: datetime | None = Field(None, description="EXIF date taken, when known (UTC)")
    created_at: datetime | None = Field(None, description="when it was uploaded (UTC)")
    caption: str | None = None
    tags: list[str] = Field(default_factory=list)


class SearchResponse(BaseModel):
    items: list[SearchItem]
    next: str | None = Field(None, description="the next page (GET queries), if any")
    next_offset: int | None = Field(None, description="offset of the next page, if any")
    took_ms: float


def _epoch(value: date | datetime | None, end: bool = False) -> int | None:
    """Seconds since the epoch; a date alone is its first (or, for an end, last) second, UTC;
    a time without a zone is UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.max if end else time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())
