from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from cdnapi.deps import ImageServiceDep
from cdnapi.service import Size
from shared.storage import StoredObject

router = APIRouter(tags=["images"])


@router.get(
    "/images/{image_id}", summary="The original image bytes", response_class=StreamingResponse
)
async def get_image(image_id: str, service: ImageServiceDep) -> StreamingResponse:
    obj = await run_in_threadpool(service.open_original, image_id)
    return _stream(obj, etag=image_id)


@router.get(
    "/images/{image_id}/{size}",
    summary="A smaller copy: thumbnail (256 px) or preview (1280 px), JPEG",
    response_class=StreamingResponse,
)
async def get_derived(image_id: str, size: Size, service: ImageServiceDep) -> StreamingResponse:
    obj = await run_in_threadpool(service.open_derived, image_id, size)
    return _stream(obj, etag=f"{image_id}-{size}")


def _stream(obj: StoredObject, etag: str) -> StreamingResponse:
    return StreamingResponse(
        obj.chunks,  # a sync iterator: starlette reads it in a thread pool
        media_type=obj.content_type,
        headers={
            "Content-Length": str(obj.size),
            "ETag": f'"{etag}"',
            # content-addressed: these bytes never change under this URL
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
        background=BackgroundTask(obj.close),
    )
