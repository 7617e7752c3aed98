"""Job and image state (Redis) and the per-content claim that makes dedup safe."""

from shared.state.protocol import (
    STORED_GRACE_S,
    CrashCounts,
    Deletions,
    EnrichBacklog,
    ImageStates,
    Intakes,
    Jobs,
    JobStore,
    StateReads,
    in_hand,
)
from shared.state.redis_store import JOB_TTL_S, RedisJobStore, job_store_resource

__all__ = [
    "JOB_TTL_S",
    "STORED_GRACE_S",
    "CrashCounts",
    "Deletions",
    "EnrichBacklog",
    "ImageStates",
    "Intakes",
    "JobStore",
    "Jobs",
    "RedisJobStore",
    "StateReads",
    "in_hand",
    "job_store_resource",
]
