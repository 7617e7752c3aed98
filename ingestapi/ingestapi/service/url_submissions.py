"""URL ingest, the API's half."""

import uuid

from ingestapi.settings import IngestSettings
from shared.batching import chunked
from shared.errors import QueueFull
from shared.log import get_logger
from shared.netguard import FetchSettings, url_refusal
from shared.queue import TaskQueue
from shared.schemas import (
    UploadDetails,
    UrlIngestRequest,
    UrlIngestResponse,
    UrlResult,
)
from shared.state import Jobs

log = get_logger(__name__)


class UrlSubmissionService:
    """URL ingest, the API's half: checks each URL's form and any literal address now and
    queues the rest; the worker downloads them, checking every address a name resolves to."""

    def __init__(
        self, queue: TaskQueue, jobs: Jobs, settings: IngestSettings, fetch: FetchSettings
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
