"""Saved searches (live albums): thin routes over searchapi.saved_search_service."""

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import FormData

from searchapi.api.v1.query_image import query_image_field, read_query_image
from searchapi.api.v1.search import with_next_link
from searchapi.deps import SavedSearchServiceDep, SearchSettingsDep
from searchapi.saved_search_service import SavedSearchIn, SavedSearchOut, SavedSearchPatch
from searchapi.schemas import MAX_LIMIT, SearchResponse
from shared.errors import (
    BadQuery,
    BadRequest,
    Conflict,
    Forbidden,
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
    json_body,
    json_request_body,
    multipart_request_body,
    rate_limit,
    require_key,
)

router = APIRouter(tags=["saved searches"])
_ALWAYS = (Unauthorized, TooManyRequests, Unavailable)
_WRITE = [require_key("write"), rate_limit("write")]
_READ = [require_key("read"), rate_limit("read")]


@router.post(
    "/saved-searches",
    status_code=201,
    dependencies=_WRITE,
    response_model=SavedSearchOut,
    responses=error_responses(Forbidden, BadRequest, BadQuery, Unprocessable, Conflict, *_ALWAYS),
    summary="Save a search under a name: a live album of every image that matches it",
    description="`query` is any search the box runs: `text` in the query language and/or "
    "`like`/`unlike` image ids, `filters`, and `min_score` (left out: the score where the "
    "results drop most now). A query that does not read is refused here, not when matched.",
    openapi_extra=json_request_body(SavedSearchIn),
)
async def create_saved_search(
    response: Response,
    body: Annotated[SavedSearchIn, json_body(SavedSearchIn)],
    service: SavedSearchServiceDep,
) -> SavedSearchOut:
    saved = SavedSearchOut.of(await service.create(body), new=0)
    response.headers["Location"] = f"/api/v1/saved-searches/{saved.id}"
    return saved


_IMAGE_SEARCH_BODY = multipart_request_body(
    {
        "file": {"type": "string", "format": "binary"},
        "name": {"type": "string"},
        "query": {
            "type": "string",
            "description": "JSON: the rest of the query (text blended into the image's "
            "meaning, image_weight, filters, min_score)",
        },
    },
    required=["file", "name"],
)


@router.post(
    "/saved-searches/image",
    status_code=201,
    dependencies=_WRITE,
    response_model=SavedSearchOut,
    responses=error_responses(
        Forbidden,
        BadRequest,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
        Conflict,
        *_ALWAYS,
    ),
    summary="Save a search by an uploaded image (multipart 'file'), optionally with text",
    description="The image is validated as a query image is and kept in object storage "
    "(so the query is embedded again when another model goes live); its album holds the "
    "images like it. `query` (a JSON field) gives the rest: `text` blended in with "
    "`image_weight` on the image, `filters`, `min_score`.",
    openapi_extra=_IMAGE_SEARCH_BODY,
)
async def create_image_saved_search(
    response: Response,
    form: Annotated[FormData, form_body()],
    service: SavedSearchServiceDep,
    settings: SearchSettingsDep,
) -> SavedSearchOut:
    upload = query_image_field(form)
    raw_query = form.get("query")
    try:
        body = SavedSearchIn.model_validate(
            {
                "name": form.get("name"),
                "query": json.loads(raw_query) if isinstance(raw_query, str) else {},
            }
        )
    except json.JSONDecodeError as exc:
        raise BadRequest(f"query is not JSON: {exc.msg}") from None
    except ValidationError as exc:
        raise RequestValidationError(body_errors(exc)) from exc
    data = await read_query_image(upload, settings.max_upload_bytes)
    content_type = upload.content_type or "application/octet-stream"
    saved = SavedSearchOut.of(await service.create(body, (data, content_type)), new=0)
    response.headers["Location"] = f"/api/v1/saved-searches/{saved.id}"
    return saved


@router.get(
    "/saved-searches",
    dependencies=_READ,
    response_model=list[SavedSearchOut],
    responses=error_responses(*_ALWAYS),
    summary="Every saved search, oldest first, with how many images are new in each",
)
async def list_saved_searches(service: SavedSearchServiceDep) -> list[SavedSearchOut]:
    searches = await service.all()
    new = await service.new_since_seen(searches)
    return [SavedSearchOut.of(saved, new[saved.id]) for saved in searches]


@router.get(
    "/saved-searches/{search_id}",
    dependencies=_READ,
    response_model=SavedSearchOut,
    responses=error_responses(NotFound, *_ALWAYS),
    summary="One saved search",
)
async def get_saved_search(search_id: str, service: SavedSearchServiceDep) -> SavedSearchOut:
    saved = await service.get(search_id)
    return SavedSearchOut.of(saved, (await service.new_since_seen([saved]))[saved.id])


@router.patch(
    "/saved-searches/{search_id}",
    dependencies=_WRITE,
    response_model=SavedSearchOut,
    responses=error_responses(Forbidden, NotFound, BadRequest, BadQuery, Unprocessable, *_ALWAYS),
    summary="Rename a saved search and/or change its query (compiled again)",
    openapi_extra=json_request_body(SavedSearchPatch),
)
async def update_saved_search(
    search_id: str,
    body: Annotated[SavedSearchPatch, json_body(SavedSearchPatch)],
    service: SavedSearchServiceDep,
) -> SavedSearchOut:
    saved = await service.update(search_id, body)
    return SavedSearchOut.of(saved, (await service.new_since_seen([saved]))[saved.id])


@router.delete(
    "/saved-searches/{search_id}",
    status_code=204,
    dependencies=_WRITE,
    responses=error_responses(Forbidden, NotFound, *_ALWAYS),
    summary="Delete a saved search",
)
async def delete_saved_search(search_id: str, service: SavedSearchServiceDep) -> Response:
    await service.delete(search_id)
    return Response(status_code=204)


@router.get(
    "/saved-searches/{search_id}/images",
    dependencies=[require_key("read"), rate_limit("search")],
    response_model=SearchResponse,
    responses=error_responses(NotFound, BadQuery, Unprocessable, *_ALWAYS),
    summary="The album: the saved search's images, paged as a search",
    description="The same items, order, folding and filters as search, with the saved "
    "threshold. Reading the first page marks the album seen (`seen_at`).",
)
async def saved_search_images(
    request: Request,
    search_id: str,
    service: SavedSearchServiceDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SearchResponse:
    return with_next_link(await service.images(search_id, limit, offset), request)
