from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from ingestapi.deps import ImageStatusServiceDep, UploadServiceDep
from ingestapi.service import IncomingFile
from shared.schemas import ImageStatus, UploadResponse, UploadStatus

router = APIRouter(tags=["ingest"])


@router.post(
    "/images",
    status_code=202,
    response_model=UploadResponse,
    summary="Upload one or many images (multipart field 'files')",
    description=(
        "Each file gets its own result. 202 when at least one file was accepted, 200 when all "
        "were already stored, else the status of the first rejected file."
    ),
)
async def upload_images(
    files: Annotated[list[UploadFile], File(description="image files")],
    service: UploadServiceDep,
    response: Response,
) -> UploadResponse:
    incoming = [IncomingFile(f.filename or "upload", await f.read()) for f in files]
    result = await run_in_threadpool(service.upload, incoming)
    response.status_code = _overall_status(result)
    return result


@router.get(
    "/images/{image_id}",
    response_model=ImageStatus,
    summary="Where one image is: stored, queued, processing, indexed (with metadata) or failed",
)
async def get_image_status(image_id: str, service: ImageStatusServiceDep) -> ImageStatus:
    return await run_in_threadpool(service.get, image_id)


def _overall_status(result: UploadResponse) -> int:
    statuses = {item.status for item in result.items}
    if UploadStatus.accepted in statuses:
        return 202
    if UploadStatus.duplicate in statuses:
        return 200
    return result.items[0].http_status
