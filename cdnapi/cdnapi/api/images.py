from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from cdnapi.deps import ImageServiceDep

router = APIRouter(tags=["images"])


@router.get(
    "/images/{image_id}", summary="The original image bytes", response_class=StreamingResponse
)
async def get_image(image_id: str, service: ImageServiceDep) -> StreamingResponse:
    obj = await run_in_threadpool(service.open_original, image_id)
    return StreamingResponse(
        obj.chunks,  # a sync iterator: starlette reads it in a thread pool
        media_type=obj.content_type,
        headers={
            "Content-Length": str(obj.size),
            "ETag": f'"{image_id}"',
            # content-addressed: these bytes never change under this URL
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
        background=BackgroundTask(obj.close),
    )
