import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from ingestapi.deps import JobServiceDep
from shared.errors import NotFound, Unauthorized, Unavailable
from shared.schemas import JobStatus
from shared.web import error_responses, require_key

router = APIRouter(
    tags=["ingest"],
    dependencies=[require_key("read")],
    responses=error_responses(Unauthorized, NotFound, Unavailable),
)
# how often a job's event stream looks at Redis for changes
EVENTS_POLL_S = 0.5


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="Progress of one upload")
async def get_job(job_id: str, service: JobServiceDep) -> JobStatus:
    return await run_in_threadpool(service.get, job_id)


async def _existing_job(job_id: str, service: JobServiceDep) -> JobStatus:
    """Looked up before the stream opens, so an unknown job is a plain 404."""
    return await run_in_threadpool(service.get, job_id)


@router.get(
    "/jobs/{job_id}/events",
    response_class=EventSourceResponse,
    summary="Server-sent events: 'progress' (the job status) on every change, then 'done'",
)
async def job_events(
    job_id: str, first: Annotated[JobStatus, Depends(_existing_job)], service: JobServiceDep
) -> AsyncIterator[ServerSentEvent]:
    status, sent = first, None
    while True:
        if status != sent:
            yield ServerSentEvent(event="progress", data=status)
            sent = status
        if not status.state.pending:
            yield ServerSentEvent(event="done", data=status)
            return
        await asyncio.sleep(EVENTS_POLL_S)
        status = await run_in_threadpool(service.get, job_id)
