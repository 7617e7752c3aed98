from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from ingestapi.deps import JobServiceDep
from shared.schemas import JobStatus

router = APIRouter(tags=["ingest"])


@router.get("/jobs/{job_id}", response_model=JobStatus, summary="Progress of one upload")
async def get_job(job_id: str, service: JobServiceDep) -> JobStatus:
    return await run_in_threadpool(service.get, job_id)
