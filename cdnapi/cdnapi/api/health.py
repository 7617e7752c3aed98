from fastapi import Request

from cdnapi.deps import container_of
from shared.web import Checks, readiness_router


def _checks(request: Request) -> Checks:
    return {"storage": container_of(request).object_store().ping}


# ready to serve images: object storage answers
router = readiness_router(_checks)
