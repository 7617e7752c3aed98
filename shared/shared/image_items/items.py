from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel, Field


class ImageItem(BaseModel):
    id: str
    url: str = Field(description="the original (signed when reads are protected)")
    thumbnail_url: str
    preview_url: str = Field(description="a copy that fits in 1280 px, JPEG")
    filename: str | None = None
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    bytes: int | None = Field(None, description="size of the original")
    taken_at: datetime | None = Field(None, description="EXIF date taken, when known (UTC)")
    created_at: datetime | None = Field(None, description="when it was uploaded (UTC)")
    caption: str | None = None
    tags: list[str] = Field(default_factory=list)
    auto_tags: list[str] = Field(
        default_factory=list, description="from the vocabulary (enrichment), apart from tags"
    )
    place: str | None = Field(None, description="where it was taken (town, region, country)")
    country_code: str | None = Field(None, description="ISO 3166 alpha-2, from its GPS")
    duplicates: int = Field(
        0, description="other copies of the same picture folded into this item (collapse)"
    )


class ItemMaker:
    """Items from index rows, with the image URLs (signed when reads are protected)."""

    def __init__(self, url_prefix: str, sign: Callable[[str], str]) -> None:
        self._prefix = url_prefix.rstrip("/")
        self._sign = sign

    def fields(self, image_id: str, row: dict[str, object]) -> dict[str, object]:
        """The item's fields, for ImageItem or a model that extends it."""
        tags, auto_tags = row.get("tags"), row.get("auto_tags")
        return {
            "id": image_id,
            "url": self._sign(f"{self._prefix}/{image_id}"),
            "thumbnail_url": self._sign(f"{self._prefix}/{image_id}/thumbnail"),
            "preview_url": self._sign(f"{self._prefix}/{image_id}/preview"),
            "filename": _opt_str(row.get("filename")),
            "content_type": _opt_str(row.get("content_type")),
            "width": _opt_int(row.get("width")),
            "height": _opt_int(row.get("height")),
            "bytes": _opt_int(row.get("bytes")),
            "taken_at": _opt_time(row.get("taken_at")),
            "created_at": _opt_time(row.get("created_at")),
            "caption": _opt_str(row.get("caption")),
            "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
            "auto_tags": [str(t) for t in auto_tags] if isinstance(auto_tags, list) else [],
            "place": _opt_str(row.get("place")),
            "country_code": _opt_str(row.get("country_code")),
        }

    def item(self, image_id: str, row: dict[str, object]) -> ImageItem:
        return ImageItem.model_validate(self.fields(image_id, row))


def _opt_str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _opt_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _opt_time(value: object) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None
