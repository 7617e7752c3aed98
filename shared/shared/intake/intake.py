"""Taking in one image: validate it from its bytes, skip it if already here, else store it
durably and mark it queued. Shared by uploads (ingestapi) and URL fetches (ingestworker)."""

import json
import time
from datetime import UTC, datetime

from shared.config import Limit
from shared.errors import AppError, BadRequest, PayloadTooLarge, Unavailable
from shared.ids import content_id, details_key, original_key
from shared.images import PixelBudget, decode_image
from shared.schemas import ImageState, UploadDetails, UploadResult, UploadStatus
from shared.state import JobStore, in_hand
from shared.storage import ObjectStore
from shared.vectors import IndexLookup

# longer values, or any but printable ASCII, go in the details object instead of a header
MAX_HEADER_CHARS = 200


class Intake:
    def __init__(
        self,
        store: ObjectStore,
        jobs: JobStore,
        index: IndexLookup,
        max_bytes: Limit,
        max_pixels: Limit,
        max_decoded_pixels: Limit | None = None,
        budget: PixelBudget | None = None,
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._index = index
        self._max_bytes = max_bytes
        self._max_pixels = max_pixels
        self._max_decoded_pixels = max_decoded_pixels
        self._budget = budget

    def accept(self, filename: str, data: bytes, details: UploadDetails) -> UploadResult:
        """Rejections come back as a result; an outage (Unavailable) is raised. An accepted
        image is `stored`: the caller queues its task, then marks it queued."""
        try:
            image_id, content_type = self._validate(data)
        except AppError as exc:
            return rejected(filename, exc)
        # one at a time per content: of two concurrent uploads of the same bytes, the second
        # waits here and then finds the first one's record
        with self._jobs.claim(image_id):
            if self._already_here(image_id):
                return UploadResult(
                    id=image_id, filename=filename, status=UploadStatus.duplicate, http_status=200
                )
            try:
                self._store_original(image_id, filename, data, content_type, details)
            except Unavailable:
                raise
            except AppError as exc:  # storage refused this one file: it alone is rejected
                return rejected(filename, exc)
            self._jobs.set_stored(image_id)
        return UploadResult(
            id=image_id, filename=filename, status=UploadStatus.accepted, http_status=202
        )

    def _validate(self, data: bytes) -> tuple[str, str]:
        if not data:
            raise BadRequest("empty file")
        if len(data) > self._max_bytes.value:
            limit = self._max_bytes
            raise PayloadTooLarge(f"file is larger than {limit.value} bytes ({limit.key})")
        decoded = decode_image(
            data,
            self._max_pixels,
            max_decoded_pixels=self._max_decoded_pixels,
            budget=self._budget,
        )
        return content_id(data), decoded.content_type

    def _already_here(self, image_id: str) -> bool:
        """Stored and indexed or on its way; an image deleted (even part-way) is not here:
        the same bytes again are a fresh upload."""
        if not self._store.exists(original_key(image_id)):
            return False
        progress = self._jobs.progress_of([image_id]).get(image_id)
        if progress is not None and progress[0] == ImageState.deleted:
            return False
        return in_hand(progress, time.time()) or bool(self._index.get([image_id]))

    def _store_original(
        self,
        image_id: str,
        filename: str,
        data: bytes,
        content_type: str,
        details: UploadDetails,
    ) -> None:
        metadata = {"uploaded-at": datetime.now(UTC).isoformat()}
        # S3 user metadata is a few ASCII headers of 2 KB in all: a short, plain name rides
        # there; anything else the uploader said goes in an object of its own, written before
        # the original (whose presence is what "stored" means)
        details_body: dict[str, object] = {}
        for key, value in (("filename", filename), ("source", details.source)):
            if _fits_a_header(value):
                metadata[key] = value
            else:
                details_body[key] = value
        if details.caption or details.tags:
            details_body.update(caption=details.caption, tags=details.tags)
        if details_body:
            body = json.dumps(details_body).encode()
            self._store.put(details_key(image_id), body, "application/json")
            metadata["details"] = "1"
        self._store.put(original_key(image_id), data, content_type, metadata=metadata)


def rejected(filename: str, exc: AppError) -> UploadResult:
    return UploadResult(
        filename=filename,
        status=UploadStatus.rejected,
        reason=exc.detail,
        http_status=exc.status_code,
    )


def _fits_a_header(value: str) -> bool:
    return len(value) <= MAX_HEADER_CHARS and value.isascii() and value.isprintable()
