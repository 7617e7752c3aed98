from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from ingestapi.deps import (
    BrowseServiceDep,
    DeletionServiceDep,
    DuplicatesServiceDep,
    EditServiceDep,
    StatsServiceDep,
)
from ingestapi.schemas import (
    BrowseResponse,
    DeleteRequest,
    DeleteResponse,
    ImageEdit,
    LibraryStats,
)
from ingestapi.service.browse import BrowseParams
from ingestapi.service.duplicate_groups import MAX_GROUPS, DuplicateGroups, ImageDuplicates
from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    Unavailable,
    Unprocessable,
)
from shared.image_items.tiers import Tier
from shared.schemas import ImageStatus
from shared.web import (
    error_responses,
    json_body,
    json_request_body,
    next_link,
    rate_limit,
    require_key,
)

router = APIRouter(tags=["library"])


@router.get(
    "/images",
    dependencies=[require_key("read"), rate_limit("read")],
    response_model=BrowseResponse,
    responses=error_responses(Unauthorized, Unprocessable, Unavailable),
    summary="The library, newest first (date taken, else uploaded), with search's filters",
    description=(
        "Paged by cursor: pass `next_cursor` (or follow `next`). A page holds what comes after "
        "the cursor in (date, id) order, so images added while paging are never repeated and "
        "never push others off a page."
    ),
)
async def browse_images(
    request: Request, params: Annotated[BrowseParams, Query()], service: BrowseServiceDep
) -> BrowseResponse:
    page = await run_in_threadpool(service.page, params)
    if page.next_cursor:
        page.next = next_link(request, cursor=page.next_cursor)
    return page


@router.get(
    "/images/{image_id}/duplicates",
    dependencies=[require_key("read"), rate_limit("read")],
    response_model=ImageDuplicates,
    responses=error_responses(Unauthorized, NotFound, Unavailable),
    summary="Other copies of this picture (same_picture) and shots taken with it (similar_shot)",
    description=(
        "same_picture: the same photo re-encoded, resized, cropped by at most a tenth on a "
        "side or with other metadata; similar_shot: close to it and taken within minutes of it "
        "(both with a date taken). As the worker filed them when they were indexed."
    ),
)
async def image_duplicates(image_id: str, service: DuplicatesServiceDep) -> ImageDuplicates:
    return await run_in_threadpool(service.of_image, image_id)


@router.get(
    "/duplicates",
    dependencies=[require_key("read"), rate_limit("read")],
    response_model=DuplicateGroups,
    responses=error_responses(Unauthorized, Unprocessable, Unavailable),
    summary="Groups of duplicates across the library, a page at a time",
)
async def duplicate_groups(
    request: Request,
    service: DuplicatesServiceDep,
    tier: Tier = Tier.same_picture,
    limit: Annotated[int, Query(ge=1, le=MAX_GROUPS)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> DuplicateGroups:
    page = await run_in_threadpool(service.groups, tier, limit, cursor)
    if page.next_cursor:
        page.next = next_link(request, cursor=page.next_cursor)
    return page


@router.get(
    "/stats",
    dependencies=[require_key("read"), rate_limit("read")],
    response_model=LibraryStats,
    responses=error_responses(Unauthorized, Unavailable),
    summary="Images by state, their total size and the live model",
)
async def library_stats(service: StatsServiceDep) -> LibraryStats:
    return await run_in_threadpool(service.stats)


@router.delete(
    "/images/{image_id}",
    dependencies=[require_key("write"), rate_limit("write")],
    status_code=204,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Unavailable),
    summary="Delete an image: gone from search, browse and the image URLs when this returns",
    description=(
        "Its original, smaller copies, details and index rows are removed and nginx's cache "
        "is cleared of it; an image still queued or being indexed is not written back. "
        "Uploading the same bytes again later is a fresh upload. A 503 means part of it is "
        "still there: delete again."
    ),
)
async def delete_image(image_id: str, service: DeletionServiceDep) -> Response:
    await run_in_threadpool(service.delete_one, image_id)
    return Response(status_code=204)


@router.post(
    "/images/delete",
    dependencies=[require_key("write"), rate_limit("write")],
    response_model=DeleteResponse,
    responses=error_responses(Unauthorized, Forbidden, Unavailable),
    summary="Delete many images (up to 1000): a result for each id",
    openapi_extra=json_request_body(DeleteRequest),
)
async def delete_images(
    body: Annotated[DeleteRequest, json_body(DeleteRequest)], service: DeletionServiceDep
) -> DeleteResponse:
    return await run_in_threadpool(service.delete, body.ids)


@router.patch(
    "/images/{image_id}",
    dependencies=[require_key("write"), rate_limit("write")],
    response_model=ImageStatus,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, Unavailable),
    summary="Change an indexed image's caption and/or tags (search filters see it at once)",
    description="A field left out keeps its value; `tags` replaces the whole list.",
    openapi_extra=json_request_body(ImageEdit),
)
async def edit_image(
    image_id: str, body: Annotated[ImageEdit, json_body(ImageEdit)], service: EditServiceDep
) -> ImageStatus:
    return await run_in_threadpool(service.edit, image_id, body)
