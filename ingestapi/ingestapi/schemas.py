"""ingestapi's own response bodies (the upload and job bodies are in shared.schemas: the
worker writes the state they report)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.image_items import ImageItem
from shared.schemas import MAX_CAPTION_CHARS, Tags


class ImageFormat(BaseModel):
    content_type: str
    suffixes: list[str] = Field(description="file name suffixes, lowercase, with the dot")


class RetryResponse(BaseModel):
    id: str
    state: str = Field(description="queued: it is on its way again")
    job_id: str = Field(description="follow it at /api/v1/jobs/{job_id}")


class FormatsResponse(BaseModel):
    formats: list[ImageFormat]


class DeleteRequest(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=1000, description="content ids")


class DeleteItem(BaseModel):
    id: str
    status: Literal["deleted", "not_found"]
    reason: str | None = None
    http_status: int = Field(description="what DELETE /api/v1/images/{id} would have answered")


class DeleteResponse(BaseModel):
    items: list[DeleteItem]


class ImageEdit(BaseModel):
    """The fields to change; a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    caption: str | None = Field(None, max_length=MAX_CAPTION_CHARS)
    tags: Tags | None = None
    removed_auto_tags: Tags | None = Field(
        None,
        description="auto-tags the user took away: the image loses them and is never given "
        "them again (a reindex included); [] gives them back at the next enrichment",
    )

    @model_validator(mode="after")
    def _something(self) -> "ImageEdit":
        if not self.model_fields_set:
            raise ValueError("send caption, tags or removed_auto_tags")
        if "caption" in self.model_fields_set and self.caption is None:
            self.caption = ""
        for name in ("tags", "removed_auto_tags"):
            if name in self.model_fields_set and getattr(self, name) is None:
                setattr(self, name, [])
        return self


class BrowseResponse(BaseModel):
    items: list[ImageItem]
    next_cursor: str | None = Field(None, description="pass as cursor for the next page")
    next: str | None = Field(None, description="the next page, if any")
    matching: int = Field(description="images the filters keep, in all")
    took_ms: float


class ModelInfo(BaseModel):
    model: str
    dim: int
    collection: str
    live_since: datetime


class LibraryStats(BaseModel):
    images: dict[str, int] = Field(
        description="indexed (the live index), and the images on their way or failed (their "
        "state is kept for a week)"
    )
    total: int = Field(description="indexed, on their way and failed")
    bytes: int = Field(description="size of the indexed originals")
    enrichment_backlog: int = Field(
        0,
        description="indexed images (searchable) whose enrichment (place, ...) has not "
        "finished yet",
    )
    model: ModelInfo | None = Field(None, description="the model of the live index")
    computed_at: datetime
