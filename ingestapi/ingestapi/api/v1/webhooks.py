"""Webhooks: thin routes over ingestapi.service.webhook_service."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from ingestapi.deps import WebhookServiceDep
from ingestapi.service.webhook_service import (
    MAX_LOG,
    DeliveryOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from shared.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    Unprocessable,
)
from shared.web import error_responses, json_body, json_request_body, rate_limit, require_key

router = APIRouter(tags=["webhooks"])
_ALWAYS = (Unauthorized, TooManyRequests, Unavailable)
_WRITE = [require_key("write"), rate_limit("write")]
# a hook's URL and log are the operator's business: reads need the write key too
_READ = _WRITE


@router.post(
    "/webhooks",
    status_code=201,
    dependencies=_WRITE,
    response_model=WebhookCreated,
    responses=error_responses(Forbidden, BadRequest, Unprocessable, Conflict, *_ALWAYS),
    summary="Call a URL when a saved search's album gains an image, or on the library's events",
    description="Each delivery is a JSON event (`id`, `type`, `created_at`, `data`) signed "
    "with the hook's secret: `X-ImageSearch-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "
    "'<t>.<body>'>`. Retried with doubling waits for up to a day; delivered at least once, so "
    "deduplicate by the event id. The URL must reach a public address (webhooks."
    "allow_networks lets others). The secret is shown in this answer only.",
    openapi_extra=json_request_body(WebhookIn),
)
async def create_webhook(
    response: Response,
    body: Annotated[WebhookIn, json_body(WebhookIn)],
    service: WebhookServiceDep,
) -> WebhookCreated:
    created = await run_in_threadpool(service.create, body)
    response.headers["Location"] = f"/api/v1/webhooks/{created.id}"
    return created


@router.get(
    "/webhooks",
    dependencies=_READ,
    response_model=list[WebhookOut],
    responses=error_responses(Forbidden, *_ALWAYS),
    summary="Every webhook, oldest first, with what is waiting and whether it is paused",
)
async def list_webhooks(service: WebhookServiceDep) -> list[WebhookOut]:
    return await run_in_threadpool(service.all)


@router.get(
    "/webhooks/{hook_id}",
    dependencies=_READ,
    response_model=WebhookOut,
    responses=error_responses(Forbidden, NotFound, *_ALWAYS),
    summary="One webhook",
)
async def get_webhook(hook_id: str, service: WebhookServiceDep) -> WebhookOut:
    return await run_in_threadpool(service.get, hook_id)


@router.patch(
    "/webhooks/{hook_id}",
    dependencies=_WRITE,
    response_model=WebhookOut,
    responses=error_responses(Forbidden, BadRequest, NotFound, Unprocessable, *_ALWAYS),
    summary="Change its URL or events; pause it, or resume it (`paused: false`)",
    openapi_extra=json_request_body(WebhookPatch),
)
async def update_webhook(
    hook_id: str,
    body: Annotated[WebhookPatch, json_body(WebhookPatch)],
    service: WebhookServiceDep,
) -> WebhookOut:
    return await run_in_threadpool(service.update, hook_id, body)


@router.delete(
    "/webhooks/{hook_id}",
    status_code=204,
    dependencies=_WRITE,
    responses=error_responses(Forbidden, NotFound, *_ALWAYS),
    summary="Delete it: nothing more is sent to it, what was waiting included",
)
async def delete_webhook(hook_id: str, service: WebhookServiceDep) -> Response:
    await run_in_threadpool(service.delete, hook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{hook_id}/deliveries",
    dependencies=_READ,
    response_model=list[DeliveryOut],
    responses=error_responses(Forbidden, NotFound, Unprocessable, *_ALWAYS),
    summary="Its latest deliveries, newest first: status, attempts, last error",
)
async def webhook_deliveries(
    hook_id: str,
    service: WebhookServiceDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG)] = 50,
) -> list[DeliveryOut]:
    return await run_in_threadpool(service.deliveries, hook_id, limit)
