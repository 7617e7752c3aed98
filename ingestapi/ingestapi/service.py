"""Upload: validate each file, store the original durably, then queue it for indexing."""

import io
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from ingestapi.archive import is_zip, members
from ingestapi.schemas import RetryResponse
from ingestapi.settings import IngestSettings
from shared.batching import LOOKUP_CHUNK, chunked
from shared.config import Limit
from shared.errors import AppError, BadRequest, Conflict, NotFound, PayloadTooLarge, QueueFull
from shared.ids import is_content_id, original_key
from shared.intake import Intake, queue_for_indexing, rejected
from shared.log import get_logger
from shared.netguard import FetchSettings, url_refusal
from shared.queue import TaskQueue
from shared.schemas import (
    ImageState,
    ImageStatus,
    JobStatus,
    UploadDetails,
    UploadResponse,
    UploadResult,
    UploadStatus,
    UrlIngestRequest,
    UrlIngestResponse,
    UrlResult,
)
from shared.state import JobStore, in_hand
from shared.storage import ObjectStore
from shared.vectors import IndexLookup

log = get_logger(__name__)
# how many files of one request are taken between two looks at the queue's depth
QUEUE_RECHECK_EVERY = 64


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    open: Callable[[], IO[bytes]]  # seekable, at its start
    over_limit: Limit | None = None  # cut off while streaming: the limit it went past

    @classmethod
    def of(cls, filename: str, data: bytes) -> "IncomingFile":
        return cls(filename, lambda: io.BytesIO(data))


class UploadService:
    def __init__(
        self, intake: Intake, queue: TaskQueue, jobs: JobStore, settings: IngestSettings
    ) -> None:
        self._intake = intake
        self._queue = queue
        self._jobs = jobs
        self._settings = settings

    def upload(
        self, files: Sequence[IncomingFile], details: UploadDetails | None = None
    ) -> UploadResponse:
        if not files:
            raise BadRequest("no files in the request (send them as multipart field 'files')")
        if len(files) > self._settings.max_files:
            raise PayloadTooLarge(f"at most {self._settings.max_files} files per request")
        self._check_queue()
        details = details or UploadDetails()
        results: list[UploadResult] = []
        done = 0  # files wholly taken
        next_look = QUEUE_RECHECK_EVERY
        try:
            for f in files:
                if len(results) >= next_look:  # others queue meanwhile: the rest of this waits
                    self._check_queue()
                    next_look = len(results) + QUEUE_RECHECK_EVERY
                # one budget for the request: its files and every zip's members together
                left = self._settings.max_files - len(results)
                results.extend(self._take(f, details, left))
                done += 1
        except QueueFull as full:
            # the files not taken (a zip's remaining members with it) are refused: send again
            results += [rejected(f.filename, full) for f in files[done:]]
        except BaseException:
            # a later file broke the request: what was stored is queued all the same
            self._queue_taken(results)
            raise
        job_id = self._queue_taken(results)
        log.info(
            "upload_received",
            files=len(files),
            **{s.value: sum(r.status == s for r in results) for s in UploadStatus},
        )
        return UploadResponse(job_id=job_id, items=results)

    def _check_queue(self) -> None:
        if (waiting := self._queue.depth()) > self._settings.max_queue:
            raise QueueFull(f"{waiting} indexing tasks are waiting; try again later")

    def _take(
        self, file: IncomingFile, details: UploadDetails, left: int
    ) -> Iterator[UploadResult]:
        limits = self._settings
        if file.over_limit is not None:
            limit = file.over_limit
            yield rejected(
                file.filename, PayloadTooLarge(f"larger than {limit.value} bytes ({limit.key})")
            )
            return
        source = file.open()
        if not is_zip(source.read(4)):
            source.seek(0)
            yield self._intake.accept(file.filename, source.read(), details)
            return
        source.seek(0)
        try:
            for member in members(
                file.filename,
                source,
                max_bytes=limits.max_bytes,
                max_members=left,
                max_total=limits.max_archive_bytes,
            ):
                if member.error:
                    yield rejected(member.name, member.error)
                else:
                    yield self._intake.accept(member.name, member.data, details)
        except AppError as exc:
            if isinstance(exc, PayloadTooLarge) and left < limits.max_files:
                exc = PayloadTooLarge(f"{exc.detail} left of ingest.max_files in this request")
            yield rejected(file.filename, exc)

    def _queue_taken(self, results: list[UploadResult]) -> str | None:
        """One job for the files that have an id; a task for each batch of accepted ones."""
        in_job = [r for r in results if r.id is not None]
        if not in_job:
            return None
        job_id = uuid.uuid4().hex
        for r in in_job:
            r.job_id = job_id
        self._jobs.create_job(job_id, [(r.id, r.filename) for r in in_job if r.id])
        accepted = [r.id for r in in_job if r.id and r.status == UploadStatus.accepted]
        size = self._settings.task_batch_size
        queue_for_indexing(
            self._jobs, self._queue, accepted, job_id, size, max_queue=self._settings.max_queue
        )
        return job_id


class UrlSubmissionService:
    """URL ingest, the API's half: checks each URL's form and any literal address now and
    queues the rest; the worker downloads them, checking every address a name resolves to."""

    def __init__(
        self, queue: TaskQueue, jobs: JobStore, settings: IngestSettings, fetch: FetchSettings
    ) -> None:
        self._queue = queue
        self._jobs = jobs
        self._settings = settings
        self._fetch = fetch

    def submit(self, request: UrlIngestRequest) -> UrlIngestResponse:
        if (waiting := self._queue.depth()) > self._settings.max_queue:
            raise QueueFull(f"{waiting} indexing tasks are waiting; try again later")
        items: list[UrlResult] = []
        for url in request.urls:
            if why := url_refusal(url, self._fetch.allow_networks):
                items.append(UrlResult(url=url, status="rejected", reason=why, http_status=422))
            else:
                items.append(UrlResult(url=url, status="queued", http_status=202))
        todo = [item.url for item in items if item.status == "queued"]
        if not todo:
            return UrlIngestResponse(job_id=None, items=items)
        job_id = uuid.uuid4().hex
        slots = self._jobs.add_fetches(job_id, todo)
        details = UploadDetails.model_validate(request.model_dump()).model_dump()
        pairs = list(zip(slots, todo, strict=True))
        for batch in chunked(pairs, self._settings.task_batch_size):
            self._queue.enqueue_fetch(batch, job_id, details)
        log.info("urls_received", urls=len(items), queued=len(todo), job_id=job_id)
        return UrlIngestResponse(job_id=job_id, items=items)


class KnownImagesService:
    """Which of these content ids need no upload: indexed, or in hand (shared.state.in_hand)."""

    def __init__(self, jobs: JobStore, index: IndexLookup) -> None:
        self._jobs = jobs
        self._index = index

    def known(self, image_ids: Sequence[str]) -> list[str]:
        wanted = list(dict.fromkeys(image_ids))
        found: set[str] = set()
        for chunk in chunked(wanted, LOOKUP_CHUNK):
            found.update(self._index.get(chunk))
        rest = [i for i in wanted if i not in found]
        progress, now = self._jobs.progress_of(rest), time.time()
        found.update(i for i in rest if in_hand(progress.get(i), now))
        return [i for i in wanted if i in found]


class ImageStatusService:
    def __init__(self, store: ObjectStore, jobs: JobStore, index: IndexLookup) -> None:
        self._store = store
        self._jobs = jobs
        self._index = index

    def get(self, image_id: str) -> ImageStatus:
        """The index is the truth for 'indexed', storage for 'accepted'; Redis tells the rest."""
        if not is_content_id(image_id):
            raise NotFound("no such image")
        state, reason = self._jobs.state_and_reason(image_id)
        if state == ImageState.deleted:
            raise NotFound("no such image")
        if row := self._index.get([image_id]).get(image_id):
            return ImageStatus(id=image_id, state="indexed", metadata=row)
        if state is not None and state != ImageState.indexed:
            return ImageStatus(id=image_id, state=state.value, reason=reason)
        if self._store.exists(original_key(image_id)):
            return ImageStatus(id=image_id, state="stored")
        raise NotFound("no such image")


class RetryService:
    """Index again an image that failed (or was never queued), on request."""

    def __init__(
        self, store: ObjectStore, jobs: JobStore, index: IndexLookup, queue: TaskQueue
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._index = index
        self._queue = queue

    def retry(self, image_id: str) -> RetryResponse:
        if not is_content_id(image_id) or not self._store.exists(original_key(image_id)):
            raise NotFound("no such image")
        if self._index.get([image_id]):
            raise Conflict("already indexed")
        state = self._jobs.state_of(image_id)
        if state is not None and state.pending:
            raise Conflict(f"already on its way ({state.value})")
        job_id = uuid.uuid4().hex
        self._jobs.create_job(job_id, [(image_id, "")])
        queue_for_indexing(self._jobs, self._queue, [image_id], job_id, batch_size=1)
        log.info("image_retried", image_id=image_id, job_id=job_id, was=state)
        return RetryResponse(id=image_id, state=ImageState.queued.value, job_id=job_id)


class JobService:
    def __init__(self, jobs: JobStore) -> None:
        self._jobs = jobs

    def get(self, job_id: str) -> JobStatus:
        status = self._jobs.get_job(job_id)
        if status is None:
            raise NotFound(f"no job {job_id!r} (unknown or expired)")
        return status
