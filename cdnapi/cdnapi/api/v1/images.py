"""GET and HEAD of an image or its smaller copies: streamed, cached forever (content-addressed),
304 for a matching If-None-Match, 206 for a single byte range, 416 past the end.

A delete is final in nginx's cache too: a streamed response that fills a shared cache (nginx
says so with X-Cache-Fill) holds back its last chunk until the image is found still stored,
and is cut short when it is gone. nginx keeps no response cut short, so a fill that was under
way when the delete landed cannot write the bytes back after the delete's refresh stored its
404 (ingestapi's image_cache). The check costs one storage request, paid once per image and
nginx; responses no cache keeps go without it."""

import re
from collections.abc import Callable, Iterator
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from cdnapi.deps import ImageServiceDep, container_of
from cdnapi.service import ImageService, Size
from shared.errors import NotFound, Unauthorized, Unavailable, Unprocessable
from shared.log import get_logger
from shared.storage import StoredObject
from shared.web import error_responses, rate_limit, require_key

router = APIRouter(
    tags=["images"],
    dependencies=[require_key("read", signed_urls=True), rate_limit("read")],
    responses=error_responses(Unauthorized, NotFound, Unprocessable, Unavailable),
)
log = get_logger(__name__)
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
SMALL_BYTES = 512 * 1024
# nginx's image locations send it (conf/nginx): the response will be kept in a shared cache
CACHE_FILL_HEADER = "x-cache-fill"
CACHING = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Accept-Ranges": "bytes",
}
# protected reads: only the browser that was given the signed URL keeps a copy (nginx caches
# it all the same, and checks each request's signature before answering from its cache)
PRIVATE_CACHING = {**CACHING, "Cache-Control": "private, max-age=31536000, immutable"}


@router.api_route(
    "/images/{image_id}",
    methods=["GET", "HEAD"],
    summary="The original image bytes",
    response_class=StreamingResponse,
)
async def get_image(image_id: str, request: Request, service: ImageServiceDep) -> Response:
    return await _deliver(request, service, image_id, "original")


@router.api_route(
    "/images/{image_id}/{size}",
    methods=["GET", "HEAD"],
    summary="A smaller copy: thumbnail (256 px) or preview (1280 px), JPEG",
    response_class=StreamingResponse,
)
async def get_derived(
    image_id: str,
    size: Literal["thumbnail", "preview"],
    request: Request,
    service: ImageServiceDep,
) -> Response:
    return await _deliver(request, service, image_id, size)


async def _deliver(request: Request, service: ImageService, image_id: str, size: Size) -> Response:
    service.check_id(image_id)
    etag = f'"{image_id}"' if size == "original" else f'"{image_id}-{size}"'
    caching = PRIVATE_CACHING if container_of(request).settings().auth.reads_protected else CACHING
    headers = {"ETag": etag, **caching}
    if _matches(request.headers.get("if-none-match"), etag):
        # the bytes behind an id never change: no need to ask storage
        return Response(status_code=304, headers=headers)
    wanted = request.headers.get("range")
    if request.method == "HEAD" or wanted:
        info = await run_in_threadpool(service.stat, image_id, size)
        headers["Content-Type"] = info.content_type
        if request.method == "HEAD":
            return Response(headers={**headers, "Content-Length": str(info.size)})
        span = _span(wanted or "", info.size)
        if span is None:
            headers["Content-Range"] = f"bytes */{info.size}"
            return Response(status_code=416, headers=headers)
        if span != (0, info.size - 1):
            start, end = span
            headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
            opened = await run_in_threadpool(
                _opened, service, image_id, size, start, end - start + 1
            )
            return _respond(*opened, headers, _final_check(request, service, image_id), 206)
    opened = await run_in_threadpool(_opened, service, image_id, size)
    return _respond(*opened, headers, _final_check(request, service, image_id))


def _final_check(
    request: Request, service: ImageService, image_id: str
) -> Callable[[], bool] | None:
    """What a streamed response asks before its last chunk, when a shared cache keeps it."""
    if request.headers.get(CACHE_FILL_HEADER) != "1":
        return None
    return lambda: service.still_stored(image_id)


def _opened(
    service: ImageService, image_id: str, size: Size, offset: int = 0, length: int | None = None
) -> tuple[StoredObject, bytes | None]:
    """Small objects (thumbnails, most photos' first chunk) are read in the same worker-thread
    hop as the open: streaming them chunk by chunk would cost more hops than bytes."""
    obj = service.open(image_id, size, offset, length)
    if obj.size > SMALL_BYTES:
        return obj, None
    return obj, obj.read()


class ImageGone(Exception):
    """Deleted while its bytes were going out: the response is cut short on purpose."""


def _respond(
    obj: StoredObject,
    body: bytes | None,
    headers: dict[str, str],
    still_stored: Callable[[], bool] | None,
    status: int = 200,
) -> Response:
    if body is not None:
        return Response(
            body, status, {**headers, "Content-Length": str(len(body))}, obj.content_type
        )
    return StreamingResponse(
        # a sync iterator: starlette reads it in a thread pool
        obj.chunks if still_stored is None else _last_chunk_while_stored(obj.chunks, still_stored),
        status_code=status,
        media_type=obj.content_type,
        headers={**headers, "Content-Length": str(obj.size)},
        background=BackgroundTask(obj.close),
    )


def _last_chunk_while_stored(
    chunks: Iterator[bytes], still_stored: Callable[[], bool]
) -> Iterator[bytes]:
    held: bytes | None = None
    for chunk in chunks:
        if held is not None:
            yield held
        held = chunk
    if held is not None and not still_stored():
        log.info("image_deleted_while_streaming")
        raise ImageGone
    if held is not None:
        yield held


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _span(header: str, size: int) -> tuple[int, int] | None:
    """The single range asked for, clipped to the object; the whole object when the header is
    not one range we understand (RFC 9110 lets a server ignore it); None when unsatisfiable."""
    match = _RANGE.fullmatch(header.strip())
    if not match or not any(match.groups()):
        return (0, size - 1)
    first, last = match.groups()
    if not first:  # the last N bytes
        length = int(last)
        return (max(0, size - length), size - 1) if length and size else None
    start = int(first)
    if last and int(last) < start:  # not a valid range: ignored
        return (0, size - 1)
    if start >= size:
        return None
    return start, min(int(last), size - 1) if last else size - 1
