"""The live model: which one answers, and what it knows."""

from fastapi import APIRouter

from searchapi.deps import LiveModelDep
from searchapi.live_model import LiveModel
from shared.errors import TooManyRequests, Unauthorized
from shared.web import error_responses, rate_limit, require_key

router = APIRouter(tags=["search"], dependencies=[require_key("read"), rate_limit("read")])


@router.get(
    "/model",
    response_model=LiveModel,
    responses=error_responses(Unauthorized, TooManyRequests),
    summary="Which model answers searches: its id, dimension, runtime, and what it knows",
    description="`knows` and `examples` come from the model's own card (imagesearch.json in "
    "its folder): the offline demo model says it knows only coloured shapes; a general model "
    "such as CLIP has none.",
)
async def live_model(model: LiveModelDep) -> LiveModel:
    return model
