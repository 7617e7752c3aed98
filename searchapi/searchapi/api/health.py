from typing import cast

from fastapi import APIRouter, Request

from searchapi.container import Container

router = APIRouter(tags=["health"])


@router.get("/readyz", summary="Ready to search: the model loaded, the index open")
async def readyz(request: Request) -> dict[str, object]:
    container = cast(Container, request.app.state.container)
    return {
        "status": "ready",
        "embedding": container.embedder().info(),
        "collection": container.vector_index().collection,
    }
