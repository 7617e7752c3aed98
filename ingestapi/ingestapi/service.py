"""Upload: validate each file, store the original durably, then queue it for indexing."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ingestapi.settings import IngestSettings
from shared.errors import AppError, BadRequest, NotFound, PayloadTooLarge, QueueFull
from shared.ids import content_id, is_content_id, original_key
from shared.images import validate_image
from shared.log import get_logger
from shared.queue import JobStore, TaskQueue
from shared.schemas import (
    ImageState,
    ImageStatus,
    JobStatus,
    UploadResponse,
    UploadResult,
    UploadStatus,
)
from shared.storage import ObjectStore
from shared.vectors import IndexLookup

log = get_logger(__name__)
# an image already on its way or done needs no new task
_IN_HAND = {ImageState.queued, ImageState.processing, ImageState.indexed}


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    data: bytes


class UploadService:
    def __init__(
        self, store: ObjectStore, queue: TaskQueue, jobs: JobStore, settings: IngestSettings
    ) -> None:
        self._store = store
        self._queue = queue
        self._jobs = jobs
        self._settings = settings

    def upload(self, files: Sequence[IncomingFile]) -> UploadResponse:
        if not files:
            raise BadRequest("no files in the request (send them as multipart field 'files')")
        if len(files) > self._settings.max_files:
            raise PayloadTooLarge(f"at most {self._settings.max_files} files per request")
        if (waiting := self._queue.depth()) > self._settings.max_queue:
            raise QueueFull(f"{waiting} indexing tasks are waiting; try again later")
        results = [self._accept(f) for f in files]
        in_job = [(r.id, r) for r in results if r.id is not None]
        job_id = uuid.uuid4().hex if in_job else None
        if job_id:
            for _, r in in_job:
                r.job_id = job_id
            self._jobs.create_job(job_id, [(image_id, r.filename) for image_id, r in in_job])
            accepted = [image_id for image_id, r in in_job if r.status == UploadStatus.accepted]
            self._enqueue(accepted, job_id)
        log.info(
            "upload_received",
            files=len(files),
            **{s.value: sum(r.status == s for r in results) for s in UploadStatus},
        )
        return UploadResponse(job_id=job_id, items=results)

    def _accept(self, file: IncomingFile) -> UploadResult:
        try:
            image_id, content_type = self._validate(file)
        except AppError as exc:
            return UploadResult(
                filename=file.filename,
                status=UploadStatus.rejected,
                reason=exc.detail,
                http_status=exc.status_code,
            )
        key = original_key(image_id)
        if self._store.exists(key) and self._jobs.state_of(image_id) in _IN_HAND:
            return UploadResult(
                id=image_id,
                filename=file.filename,
                status=UploadStatus.duplicate,
                http_status=200,
            )
        self._store.put(
            key,
            file.data,
            content_type,
            metadata={"filename": file.filename, "uploaded-at": datetime.now(UTC).isoformat()},
        )
        return UploadResult(
            id=image_id,
            filename=file.filename,
            status=UploadStatus.accepted,
            http_status=202,
        )

    def _validate(self, file: IncomingFile) -> tuple[str, str]:
        if not file.data:
            raise BadRequest("empty file")
        if len(file.data) > self._settings.max_bytes:
            raise PayloadTooLarge(f"file is larger than {self._settings.max_bytes} bytes")
        info = validate_image(file.data, self._settings.max_pixels)
        return content_id(file.data), info.content_type

    def _enqueue(self, image_ids: list[str], job_id: str) -> None:
        unique = list(dict.fromkeys(image_ids))
        for image_id in unique:
            self._jobs.set_state(image_id, ImageState.queued)
        size = self._settings.task_batch_size
        for start in range(0, len(unique), size):
            self._queue.enqueue_index(unique[start : start + size], job_id)


class ImageStatusService:
    def __init__(self, store: ObjectStore, jobs: JobStore, index: IndexLookup) -> None:
        self._store = store
        self._jobs = jobs
        self._index = index

    def get(self, image_id: str) -> ImageStatus:
        """The index is the truth for 'indexed', storage for 'accepted'; Redis tells the rest."""
        if not is_content_id(image_id):
            raise NotFound("no such image")
        if row := self._index.get([image_id]).get(image_id):
            return ImageStatus(id=image_id, state="indexed", metadata=row)
        state, reason = self._jobs.state_and_reason(image_id)
        if state is not None and state != ImageState.indexed:
            return ImageStatus(id=image_id, state=state.value, reason=reason)
        if self._store.exists(original_key(image_id)):
            return ImageStatus(id=image_id, state="stored")
        raise NotFound("no such image")


class JobService:
    def __init__(self, jobs: JobStore) -> None:
        self._jobs = jobs

    def get(self, job_id: str) -> JobStatus:
        status = self._jobs.get_job(job_id)
        if status is None:
            raise NotFound(f"no job {job_id!r} (unknown or expired)")
        return status
