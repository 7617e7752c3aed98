from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from ingestapi.deps import (
    ImageStatusServiceDep,
    KnownImagesServiceDep,
    RetryServiceDep,
    UploadLimitsDep,
    UploadServiceDep,
    UrlSubmissionServiceDep,
)
from ingestapi.metrics import UPLOAD_BYTES, UPLOAD_FILES
from ingestapi.multipart import read_multipart
from ingestapi.schemas import FormatsResponse, ImageFormat, RetryResponse
from ingestapi.service import IncomingFile
from shared.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    QueueFull,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)
from shared.images import FORMATS
from shared.schemas import (
    ImageStatus,
    KnownImagesRequest,
    KnownImagesResponse,
    UploadDetails,
    UploadResponse,
    UploadStatus,
    UrlIngestRequest,
    UrlIngestResponse,
)
from shared.web import (
    error_responses,
    json_body,
    json_request_body,
    multipart_request_body,
    rate_limit,
    require_key,
)

router = APIRouter(tags=["ingest"])

# the body is parsed while it streams (see ingestapi.multipart), so it is described here
_UPLOAD_BODY = multipart_request_body(
    {
        "files": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "images, or zip archives of images",
        },
        "caption": {"type": "string", "description": "for every file"},
        "tags": {"type": "string", "description": "comma-separated"},
        "source": {"type": "string", "default": "upload"},
    },
    required=["files"],
)


@router.post(
    "/images",
    dependencies=[require_key("write"), rate_limit("upload")],
    status_code=202,
    response_model=UploadResponse,
    responses=error_responses(
        BadRequest,
        Unauthorized,
        Forbidden,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
        QueueFull,
        Unavailable,
    ),
    summary="Upload one or many images, or zip archives of them (multipart field 'files')",
    description=(
        "Each file (each member of a zip) gets its own result with the status it alone would "
        "have had. 202 when at least one was accepted, 200 when all were already stored, else "
        "the status of the first rejected one. A file over ingest.max_bytes is cut off while "
        "it streams and rejected with 413; the others are unaffected."
    ),
    openapi_extra=_UPLOAD_BODY,
)
async def upload_images(
    request: Request,
    service: UploadServiceDep,
    limits: UploadLimitsDep,
    response: Response,
) -> UploadResponse:
    form = await read_multipart(request.headers.get("content-type"), request.stream(), limits)
    try:
        details = _details(form.fields)
        incoming = [IncomingFile(f.filename, f.open, f.over_limit) for f in form.files]
        result = await run_in_threadpool(service.upload, incoming, details)
    finally:
        form.close()
    UPLOAD_BYTES.inc(sum(f.size for f in form.files))
    for item in result.items:
        UPLOAD_FILES.labels(item.status.value).inc()
    response.status_code = _overall_status(result)
    return result


@router.post(
    "/images/urls",
    dependencies=[require_key("write"), rate_limit("upload")],
    status_code=202,
    response_model=UrlIngestResponse,
    responses=error_responses(
        Unauthorized, Forbidden, PayloadTooLarge, TooManyRequests, QueueFull, Unavailable
    ),
    summary="Ingest images from http(s) URLs, downloaded by the worker",
    description=(
        "Each URL gets a result: queued (follow it at /api/v1/jobs/{job_id}) or rejected with "
        "the reason (not http(s), or an address in a private, loopback or link-local range). "
        "The worker refuses names that resolve to such addresses and redirects to them, and "
        "keeps to fetch.max_bytes and fetch.timeout_s. 202 when any URL was queued, else 422."
    ),
    openapi_extra=json_request_body(UrlIngestRequest),
)
async def ingest_urls(
    body: Annotated[UrlIngestRequest, json_body(UrlIngestRequest)],
    service: UrlSubmissionServiceDep,
    response: Response,
) -> UrlIngestResponse:
    result = await run_in_threadpool(service.submit, body)
    response.status_code = 202 if result.job_id else 422
    return result


@router.post(
    "/images/check",
    dependencies=[require_key("write"), rate_limit("write")],
    response_model=KnownImagesResponse,
    responses=error_responses(Unauthorized, Forbidden, PayloadTooLarge, Unavailable),
    summary="Which of these sha256 content ids are already here (indexed or on their way)",
    openapi_extra=json_request_body(KnownImagesRequest),
)
async def check_images(
    body: Annotated[KnownImagesRequest, json_body(KnownImagesRequest)],
    service: KnownImagesServiceDep,
) -> KnownImagesResponse:
    return KnownImagesResponse(known=await run_in_threadpool(service.known, body.ids))


@router.get(
    "/images/formats",
    dependencies=[require_key("read"), rate_limit("read")],
    response_model=FormatsResponse,
    responses=error_responses(Unauthorized),
    summary="The image formats uploads accept, with their usual file suffixes",
    description="Uploads are recognised by their bytes, never their names; the suffixes are "
    "for clients that pick files from a folder (the bulk `ingest` command).",
)
async def image_formats() -> FormatsResponse:
    return FormatsResponse(
        formats=[
            ImageFormat(content_type=content_type, suffixes=list(suffixes))
            for content_type, suffixes in FORMATS.values()
        ]
    )


@router.get(
    "/images/{image_id}",
    dependencies=[require_key("read"), rate_limit("read")],
    response_model=ImageStatus,
    responses=error_responses(Unauthorized, NotFound, Unavailable),
    summary="Where one image is: stored, queued, processing, indexed (with metadata) or failed",
)
async def get_image_status(image_id: str, service: ImageStatusServiceDep) -> ImageStatus:
    return await run_in_threadpool(service.get, image_id)


@router.post(
    "/images/{image_id}/retry",
    dependencies=[require_key("write"), rate_limit("write")],
    status_code=202,
    response_model=RetryResponse,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, Unavailable),
    summary="Index again an image that failed (after fixing what made it fail)",
)
async def retry_image(image_id: str, service: RetryServiceDep) -> RetryResponse:
    return await run_in_threadpool(service.retry, image_id)


def _details(fields: dict[str, list[str]]) -> UploadDetails:
    raw: dict[str, object] = {"tags": fields.get("tags", [])}
    for name in ("caption", "source"):
        if name in fields:
            raw[name] = fields[name][-1]
    try:
        return UploadDetails.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


def _overall_status(result: UploadResponse) -> int:
    statuses = {item.status for item in result.items}
    if UploadStatus.accepted in statuses:
        return 202
    if UploadStatus.duplicate in statuses:
        return 200
    return result.items[0].http_status
