from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from ingestapi.deps import JobServiceDep, JobWatchersDep, container_of
from ingestapi.service.job_events import Ticket
from shared.errors import NotFound, TooManyRequests, Unauthorized, Unavailable
from shared.schemas import JobStatus
from shared.web import error_responses, rate_limit, require_key

router = APIRouter(
    tags=["ingest"],
    dependencies=[require_key("read"), rate_limit("read")],
    responses=error_responses(Unauthorized, NotFound, TooManyRequests, Unavailable),
)


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="Progress of one upload")
async def get_job(job_id: str, service: JobServiceDep) -> JobStatus:
    return await run_in_threadpool(service.get, job_id)


async def _existing_job(job_id: str, service: JobServiceDep) -> JobStatus:
    """Looked up before the stream opens, so an unknown job is a plain 404."""
    return await run_in_threadpool(service.get, job_id)


async def _admitted(job_id: str, request: Request, watchers: JobWatchersDep) -> Ticket:
    """A place among the open streams, taken before the stream opens: a plain 429 past a cap
    (on the event loop, as the streams release theirs: no lock needed)."""
    limiter = container_of(request).rate_limiter()
    return watchers.admit(job_id, limiter.client_of(request))


@router.get(
    "/jobs/{job_id}/events",
    response_class=EventSourceResponse,
    summary="Server-sent events: 'progress' (the job status) on every change, then 'done'",
    description=(
        "At most events.max_per_client streams per client and events.max_streams per process "
        "(429 beyond). A stream ends after events.max_lifetime_s without 'done': reconnect "
        "(the stream's `retry` says after how long) or poll GET /api/v1/jobs/{job_id}."
    ),
)
async def job_events(
    job_id: str,
    request: Request,
    first: Annotated[JobStatus, Depends(_existing_job)],
    ticket: Annotated[Ticket, Depends(_admitted)],
    watchers: JobWatchersDep,
) -> AsyncIterator[ServerSentEvent]:
    reconnect_ms = container_of(request).settings().events.reconnect_ms
    async with watchers.follow(ticket, first) as statuses:
        yield ServerSentEvent(comment="job events", retry=reconnect_ms)
        async for status in statuses:
            yield ServerSentEvent(event="progress", data=status)
            if not status.state.pending:
                yield ServerSentEvent(event="done", data=status)
