"""Job and image state (Redis) and the per-content claim that makes dedup safe."""

from shared.state.protocol import ImageStates, JobStore
from shared.state.redis_store import JOB_TTL_S, RedisJobStore, job_store_resource
from shared.state.summary import summarize_job

__all__ = [
    "JOB_TTL_S",
    "ImageStates",
    "JobStore",
    "RedisJobStore",
    "job_store_resource",
    "summarize_job",
]
