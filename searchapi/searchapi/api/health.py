from typing import cast

from fastapi import APIRouter, Request

from searchapi.container import Container
from shared.web import readiness_router


def _container(request: Request) -> Container:
    return cast(Container, request.app.state.container)


# ready to search: Milvus answers; once ready, the model and the collection in use
router: APIRouter = readiness_router(
    lambda request: {"milvus": _container(request).vector_index().ping},
    details=lambda request: {
        "embedding": _container(request).embedder().info(),
        "collection": _container(request).vector_index().collection,
    },
)
