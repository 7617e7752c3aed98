"""Job and image state (Redis) and the per-content claim that makes dedup safe."""

from shared.state.protocol import STORED_GRACE_S, ImageStates, JobStore, in_hand
from shared.state.redis_store import JOB_TTL_S, RedisJobStore, job_store_resource

__all__ = [
    "JOB_TTL_S",
    "STORED_GRACE_S",
    "ImageStates",
    "JobStore",
    "RedisJobStore",
    "in_hand",
    "job_store_resource",
]
