from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, Field, field_validator, model_validator

from searchapi.deps import SearchServiceDep, SearchSettingsDep
from searchapi.service import SearchOptions
from shared.errors import BadRequest, PayloadTooLarge, Unprocessable
from shared.images.formats import CONTENT_TYPES
from shared.schemas import MAX_TAG_CHARS, MAX_TAGS, SearchResponse
from shared.vectors import ImageFilter
from shared.web.auth import require_key
from shared.web.ratelimit import rate_limit

router = APIRouter(tags=["search"], dependencies=[require_key("read"), rate_limit("search")])
_TYPES = sorted(CONTENT_TYPES.values())


class SearchParams(BaseModel):
    """Paging, cutoffs, order and filters, shared by every kind of query."""

    limit: int = Field(20, ge=1, le=200)
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
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    tags_mode: Literal["any", "all"] = "any"
    content_type: list[str] = Field(default_factory=list, description=", ".join(_TYPES))
    min_width: int | None = Field(None, ge=1, le=1_000_000)
    min_height: int | None = Field(None, ge=1, le=1_000_000)
    source: str | None = Field(None, min_length=1, max_length=256)

    @field_validator("tags", "content_type", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            return values
        return [p.strip() for v in values for p in str(v).split(",") if p.strip()]

    @field_validator("tags")
    @classmethod
    def _tag(cls, tags: list[str]) -> list[str]:
        if any(len(t) > MAX_TAG_CHARS or not t.isprintable() for t in tags):
            raise ValueError(f"a tag is at most {MAX_TAG_CHARS} printable characters")
        return tags

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


Params = Annotated[SearchParams, Query()]
Text = Annotated[str, Query(min_length=1, max_length=1000, description="what to look for")]


@router.get("/image/search", response_model=SearchResponse, summary="Find images by a description")
async def search_by_text(
    request: Request,
    service: SearchServiceDep,
    settings: SearchSettingsDep,
    text: Text,
    params: Params,
) -> SearchResponse:
    query = text.strip()
    if not query:
        raise BadRequest("text must not be blank")
    result = await service.by_text(query, params.options(settings.max_depth))
    return _with_next_link(result, request)


@router.post(
    "/image/search",
    response_model=SearchResponse,
    summary="Find images like an uploaded one (multipart field 'file'), optionally with text",
    description=(
        "Any image, validated like an upload. With `text`, the query is a blend of both: "
        "`weight` on the image, 1 - weight on the text. Paging and filters as query parameters."
    ),
)
async def search_by_image(
    service: SearchServiceDep,
    settings: SearchSettingsDep,
    params: Params,
    file: Annotated[UploadFile, File(description="the query image")],
    text: Annotated[str | None, Form(max_length=1000)] = None,
    weight: Annotated[float, Form(ge=0, le=1)] = 0.5,
) -> SearchResponse:
    data = await file.read(settings.max_upload_bytes + 1)
    if not data:
        raise BadRequest("empty file")
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"query image is larger than {settings.max_upload_bytes} bytes "
            "(search.max_upload_bytes)"
        )
    options = params.options(settings.max_depth)
    return await service.by_image(data, options, (text or "").strip() or None, weight)


@router.get(
    "/images/{image_id}/similar",
    response_model=SearchResponse,
    summary="More like an indexed image (the image itself left out)",
)
async def similar_images(
    request: Request,
    image_id: str,
    service: SearchServiceDep,
    settings: SearchSettingsDep,
    params: Params,
) -> SearchResponse:
    result = await service.similar(image_id, params.options(settings.max_depth))
    return _with_next_link(result, request)


def _with_next_link(result: SearchResponse, request: Request) -> SearchResponse:
    if result.next_offset is not None:
        url = request.url.include_query_params(offset=result.next_offset)
        result.next = f"{url.path}?{url.query}"
    return result


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
