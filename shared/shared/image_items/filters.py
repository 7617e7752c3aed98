from datetime import UTC, date, datetime, time
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from shared.images import CONTENT_TYPES
from shared.schemas import Tags
from shared.vectors import ImageFilter

_TYPES = sorted(set(CONTENT_TYPES.values()))


class ImageFilterParams(BaseModel):
    """What search, similar and browse keep: dates, tags, type, size, source, place, camera."""

    taken_from: date | datetime | None = None
    taken_to: date | datetime | None = Field(None, description="a date alone: that whole day")
    created_from: date | datetime | None = None
    created_to: date | datetime | None = None
    tags: Tags = Field(default_factory=list)
    tags_mode: Literal["any", "all"] = Field("any", description="for tags and auto_tags")
    auto_tags: Tags = Field(
        default_factory=list, description="tagged so from the vocabulary (enrichment)"
    )
    content_type: list[str] = Field(default_factory=list, description=", ".join(_TYPES))
    min_width: int | None = Field(None, ge=1, le=1_000_000)
    min_height: int | None = Field(None, ge=1, le=1_000_000)
    source: str | None = Field(None, min_length=1, max_length=256)
    place: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="where it was taken: a town, region or country as the facets name it, or "
        "a country code (PT)",
    )

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

    camera: str | None = Field(
        None, min_length=1, max_length=256, description="taken with this camera, as EXIF names it"
    )

    @field_validator("source", "place", "camera")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():
            raise ValueError("must be printable text")
        return value

    @model_validator(mode="after")
    def _ordered_ranges(self) -> "ImageFilterParams":
        for low, high in (("taken_from", "taken_to"), ("created_from", "created_to")):
            start, end = epoch(getattr(self, low)), epoch(getattr(self, high), end=True)
            if start is not None and end is not None and start > end:
                raise ValueError(f"{low} is after {high}")
        return self

    def image_filter(self) -> ImageFilter:
        return ImageFilter(
            taken_from=epoch(self.taken_from),
            taken_to=epoch(self.taken_to, end=True),
            created_from=epoch(self.created_from),
            created_to=epoch(self.created_to, end=True),
            tags=tuple(self.tags),
            tags_mode=self.tags_mode,
            auto_tags=tuple(self.auto_tags),
            content_types=tuple(self.content_type),
            min_width=self.min_width,
            min_height=self.min_height,
            source=self.source,
            place=self.place,
            camera=self.camera,
        )


def epoch(value: date | datetime | None, end: bool = False) -> int | None:
    """Seconds since the epoch; a date alone is its first (or, for an end, last) second, UTC;
    a time without a zone is UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.max if end else time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())
