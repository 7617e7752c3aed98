from typing import Annotated

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from ingestapi.deps import DeletionServiceDep, EditServiceDep
from ingestapi.schemas import DeleteRequest, DeleteResponse, ImageEdit
from shared.errors import Conflict, Forbidden, NotFound, Unauthorized, Unavailable
from shared.schemas import ImageStatus
from shared.web import error_responses, json_body, json_request_body, require_key

router = APIRouter(tags=["library"])


@router.delete(
    "/images/{image_id}",
    dependencies=[require_key("write")],
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
    dependencies=[require_key("write")],
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
    dependencies=[require_key("write")],
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
