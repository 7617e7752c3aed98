from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import FormData

from searchapi.api.v1.query_image import query_image_field, read_query_image
from searchapi.deps import SearchServiceDep, SearchSettingsDep
from searchapi.schemas import MAX_FEEDBACK_IMAGES, Feedback, SearchParams, SearchResponse
from shared.errors import (
    BadQuery,
    BadRequest,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    Unprocessable,
    UnsupportedMediaType,
)
from shared.web import (
    body_errors,
    error_responses,
    form_body,
    multipart_request_body,
    next_link,
    rate_limit,
    require_key,
)

router = APIRouter(tags=["search"], dependencies=[require_key("read"), rate_limit("search")])
_ALWAYS = (Unauthorized, Unprocessable, TooManyRequests, Unavailable)


Params = Annotated[SearchParams, Query()]
# the model reads the first 77 tokens (a few hundred characters); a pasted paragraph is cut
# there, the way CLIP cuts it, rather than refused
MAX_TEXT_CHARS = 4000
QUERY_LANGUAGE = """\
What to look for, in words: a description (`a red car at night`), a file name (`IMG_2041`), a
tag, a caption's word. Every query searches by meaning and by the words themselves, fused
into one list; each result says which of its fields held which words (`matched`).

- `"exact phrase"`: the words together, in this order;
- `-word`: leave out images holding the word, and push the meaning away from it;
- `word:2`: weigh a term more (more than 0, up to 10);
- `tag:`, `file:`, `text:` (written in the picture), `place:`: the word in that field only,
  looked up literally (not by meaning);
- `a OR b`: either.

A query that does not read is a 422 `bad_query` with its `position`. Past the model's 77
tokens the meaning side does not read the rest."""
Text = Annotated[
    str | None,
    Query(min_length=1, max_length=MAX_TEXT_CHARS, description=QUERY_LANGUAGE),
]
FeedbackIds = Annotated[
    list[str],
    Query(
        max_length=MAX_FEEDBACK_IMAGES,
        description=f"image ids (up to {MAX_FEEDBACK_IMAGES})",
    ),
]


@router.get(
    "/image/search",
    response_model=SearchResponse,
    responses=error_responses(BadRequest, BadQuery, NotFound, *_ALWAYS),
    summary="Find images by a description, words, or images like them",
    description=(
        "`text` in the query language (see the parameter), and/or `like`: images to find "
        "more like (and `unlike`: images to find fewer like), which move the query's meaning "
        "(Rocchio). The images given are left out of the results."
    ),
)
async def search_by_text(
    request: Request,
    service: SearchServiceDep,
    settings: SearchSettingsDep,
    params: Params,
    text: Text = None,
    like: FeedbackIds = [],  # noqa: B006 (FastAPI copies defaults)
    unlike: FeedbackIds = [],  # noqa: B006
) -> SearchResponse:
    query = (text or "").strip()
    if text is not None and not query:
        raise BadRequest("text must not be blank")
    if text is None and not like:
        missing = "give text (what to look for) or like (images to find more like)"
        raise RequestValidationError([{"loc": ("query", "text"), "msg": missing}])
    feedback = Feedback(tuple(dict.fromkeys(like)), tuple(dict.fromkeys(unlike)))
    result = await service.by_text(query or None, params.options(settings.max_depth), feedback)
    return with_next_link(result, request)


class ImageQueryForm(BaseModel):
    text: str | None = Field(None, max_length=MAX_TEXT_CHARS, description="blended in")
    weight: float = Field(0.5, ge=0, le=1, description="on the image; 1 - weight on the text")


# the form is read after the key and rate limit checks (shared.web.body), so it is described here
_IMAGE_QUERY_BODY = multipart_request_body(
    {
        "file": {"type": "string", "format": "binary"},
        **ImageQueryForm.model_json_schema()["properties"],
    },
    required=["file"],
)


@router.post(
    "/image/search",
    response_model=SearchResponse,
    responses=error_responses(BadRequest, PayloadTooLarge, UnsupportedMediaType, *_ALWAYS),
    summary="Find images like an uploaded one (multipart field 'file'), optionally with text",
    description=(
        "Any image, validated like an upload. With `text`, the query is a blend of both: "
        "`weight` on the image, 1 - weight on the text. Paging and filters as query parameters."
    ),
    openapi_extra=_IMAGE_QUERY_BODY,
)
async def search_by_image(
    service: SearchServiceDep,
    settings: SearchSettingsDep,
    params: Params,
    form: Annotated[FormData, form_body()],
) -> SearchResponse:
    upload = query_image_field(form)
    fields = {k: v for k, v in form.items() if k in ("text", "weight") and isinstance(v, str)}
    try:
        extra = ImageQueryForm.model_validate(fields)
    except ValidationError as exc:
        raise RequestValidationError(body_errors(exc)) from exc
    data = await read_query_image(upload, settings.max_upload_bytes)
    options = params.options(settings.max_depth)
    text = (extra.text or "").strip() or None
    return await service.by_image(data, options, text, extra.weight)


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
    return with_next_link(result, request)


def with_next_link(result: SearchResponse, request: Request) -> SearchResponse:
    if result.next_offset is not None:
        result.next = next_link(request, offset=result.next_offset)
    return result
