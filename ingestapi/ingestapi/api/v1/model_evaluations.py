"""Model evaluations: thin routes over ingestapi.service.evaluation_requests."""

from typing import Annotated

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from ingestapi.deps import ModelEvaluationServiceDep
from ingestapi.service.evaluation_requests import EvaluationIn
from shared.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    Unprocessable,
)
from shared.evaluation_records import EvaluationRecord
from shared.web import error_responses, json_body, json_request_body, rate_limit, require_key

router = APIRouter(tags=["models"])
_ALWAYS = (Unauthorized, TooManyRequests, Unavailable)


@router.post(
    "/model-evaluations",
    status_code=202,
    dependencies=[require_key("write"), rate_limit("write")],
    response_model=EvaluationRecord,
    responses=error_responses(Forbidden, BadRequest, Unprocessable, *_ALWAYS),
    summary="Evaluate a candidate model on a sample of your library, beside the live one",
    description="Queued for the worker (at enrichment's low priority); follow `Location`. "
    "The report gives recall@1/5/10 and MRR of both models on queries made from what the "
    "library says of its pictures, each one's time per picture, and what a switch would "
    "cost. No index is touched.",
    openapi_extra=json_request_body(EvaluationIn),
)
async def create_evaluation(
    response: Response,
    body: Annotated[EvaluationIn, json_body(EvaluationIn)],
    service: ModelEvaluationServiceDep,
) -> EvaluationRecord:
    record = await run_in_threadpool(service.create, body)
    response.headers["Location"] = f"/api/v1/model-evaluations/{record.id}"
    return record


@router.get(
    "/model-evaluations/{evaluation_id}",
    dependencies=[require_key("read"), rate_limit("read")],
    response_model=EvaluationRecord,
    responses=error_responses(NotFound, *_ALWAYS),
    summary="An evaluation: queued, running, done (with its report) or failed (with why)",
)
async def get_evaluation(
    evaluation_id: str, service: ModelEvaluationServiceDep
) -> EvaluationRecord:
    return await run_in_threadpool(service.get, evaluation_id)
