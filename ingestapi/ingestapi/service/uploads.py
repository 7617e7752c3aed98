"""Upload: validate each file, store the original durably, then queue it for indexing."""

import io
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from ingestapi.archive import is_zip, members
from ingestapi.settings import IngestSettings
from ingestapi.upload_limits import UploadLimits
from shared.config import Limit
from shared.errors import AppError, BadRequest, PayloadTooLarge, QueueFull
from shared.intake import Intake, queue_for_indexing, rejected
from shared.log import get_logger
from shared.queue import TaskQueue
from shared.schemas import (
    UploadDetails,
    UploadResponse,
    UploadResult,
    UploadStatus,
)
from shared.state import JobStore

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
        self,
        intake: Intake,
        queue: TaskQueue,
        jobs: JobStore,
        settings: IngestSettings,
        limits: UploadLimits,
    ) -> None:
        self._intake = intake
        self._queue = queue
        self._jobs = jobs
        self._settings = settings
        self._limits = limits

    def upload(
        self, files: Sequence[IncomingFile], details: UploadDetails | None = None
    ) -> UploadResponse:
        if not files:
            raise BadRequest("no files in the request (send them as multipart field 'files')")
        self._limits.check_files(len(files))
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
                left = self._limits.files_left(len(results))
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
        if file.over_limit is not None:
            yield rejected(file.filename, UploadLimits.cut_off(file.over_limit))
            return
        source = file.open()
        if not is_zip(source.read(4)):
            source.seek(0)
            yield self._intake.accept(file.filename, source.read(), details)
            return
        source.seek(0)
        try:
            for member in members(file.filename, source, self._limits, left):
                if member.error:
                    yield rejected(member.name, member.error)
                else:
                    yield self._intake.accept(member.name, member.data, details)
        except AppError as exc:
            if isinstance(exc, PayloadTooLarge):
                exc = self._limits.in_request(exc, left)
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
