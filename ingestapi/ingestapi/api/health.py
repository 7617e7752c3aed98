from fastapi import Request

from ingestapi.deps import container_of
from shared.web import Checks, readiness_router


def _checks(request: Request) -> Checks:
    container = container_of(request)
    return {
        "redis": container.job_store().ping,
        "storage": container.object_store().ping,
        "milvus": container.live_index().ping,
    }


# ready to take uploads: Redis, object storage and Milvus answer
router = readiness_router(_checks)
