from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from searchapi.deps import SearchServiceDep, SearchSettingsDep
from searchapi.schemas import SearchParams, SearchResponse
from shared.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    Unprocessable,
    UnsupportedMediaType,
)
from shared.web import error_responses, rate_limit, require_key

router = APIRouter(tags=["search"], dependencies=[require_key("read"), rate_limit("search")])
_ALWAYS = (Unauthorized, Unprocessable, TooManyRequests, Unavailable)


Params = Annotated[SearchParams, Query()]
# the model reads the first 77 tokens (a few hundred characters); a pasted paragraph is cut
# there, the way CLIP cuts it, rather than refused
MAX_TEXT_CHARS = 4000
Text = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description="what to look for; past the model's 77 tokens the rest is not read",
    ),
]


@router.get(
    "/image/search",
    response_model=SearchResponse,
    responses=error_responses(BadRequest, *_ALWAYS),
    summary="Find images by a description",
)
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
    responses=error_responses(BadRequest, PayloadTooLarge, UnsupportedMediaType, *_ALWAYS),
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
    text: Annotated[str | None, Form(max_length=MAX_TEXT_CHARS)] = None,
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
    responses=error_responses(NotFound, *_ALWAYS),
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
