"""An upload job's progress."""

from shared.errors import NotFound
from shared.schemas import JobStatus
from shared.state import Jobs


class JobService:
    def __init__(self, jobs: Jobs) -> None:
        self._jobs = jobs

    def get(self, job_id: str) -> JobStatus:
        status = self._jobs.get_job(job_id)
        if status is None:
            raise NotFound(f"no job {job_id!r} (unknown or expired)")
        return status
