"""The query image of a multipart request (image search, a search saved by a picture): its
field, read up to search.max_upload_bytes."""

from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from shared.errors import BadRequest, PayloadTooLarge


def query_image_field(form: FormData) -> UploadFile:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise BadRequest("send the query image in multipart field 'file'")
    return upload


async def read_query_image(upload: UploadFile, max_bytes: int) -> bytes:
    data = await run_in_threadpool(upload.file.read, max_bytes + 1)
    if not data:
        raise BadRequest("empty file")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"query image is larger than {max_bytes} bytes (search.max_upload_bytes)"
        )
    return data
