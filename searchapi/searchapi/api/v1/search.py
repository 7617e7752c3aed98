from typing import Annotated

from fastapi import APIRouter, Query

from searchapi.deps import SearchServiceDep
from shared.errors import BadRequest
from shared.schemas import SearchResponse

router = APIRouter(tags=["search"])


@router.get("/image/search", response_model=SearchResponse, summary="Find images by a description")
async def search_by_text(
    service: SearchServiceDep,
    text: Annotated[str, Query(min_length=1, max_length=1000, description="what to look for")],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> SearchResponse:
    query = text.strip()
    if not query:
        raise BadRequest("text must not be blank")
    return await service.search_text(query, limit)
