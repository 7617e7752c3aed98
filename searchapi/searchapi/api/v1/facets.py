from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from searchapi.api.v1.search import Params, Text
from searchapi.deps import FacetServiceDep, SearchSettingsDep
from searchapi.facet_counts import FacetsResponse
from shared.errors import (
    BadQuery,
    BadRequest,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    Unprocessable,
)
from shared.web import error_responses, rate_limit, require_key

router = APIRouter(tags=["search"], dependencies=[require_key("read"), rate_limit("search")])


@router.get(
    "/facets",
    response_model=FacetsResponse,
    responses=error_responses(
        BadRequest, BadQuery, Unauthorized, Unprocessable, TooManyRequests, Unavailable
    ),
    summary="How a search's results (or the filtered library) spread over places, tags, years "
    "and cameras",
    description="The same `text` and filters as search; without `text`, the library as the "
    "filters keep it. Counted over the best `search.facet_depth` results, or at most "
    "`search.facet_rows` images of the library (`complete` says whether that was all).",
)
async def facets(
    service: FacetServiceDep, settings: SearchSettingsDep, params: Params, text: Text = None
) -> FacetsResponse:
    query = (text or "").strip()
    if text is not None and not query:
        raise BadRequest("text must not be blank")
    if not query:
        return await run_in_threadpool(service.library, params.image_filter())
    return await service.query(query, params.options(settings.max_depth))
