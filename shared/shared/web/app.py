"""The set-up every API shares: errors, request logging, metrics, health, auth and limits."""

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from shared.web.auth import operator_surface_refusal
from shared.web.body import JSON_BODY_BYTES, BodyCap, RouteCap
from shared.web.errors import error_body, install_error_handlers
from shared.web.metrics import install_metrics
from shared.web.middleware import request_context

health_router = APIRouter()


@health_router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _operator_surface(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    refusal = operator_surface_refusal(request)
    if refusal is not None:
        return JSONResponse(
            error_body(refusal.code, refusal.detail),
            refusal.status_code,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return await call_next(request)


def build_app(
    service: str,
    title: str,
    container: object,
    routers: Sequence[tuple[APIRouter, str]],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    body_caps: Sequence[RouteCap] = (),
) -> FastAPI:
    """Routes reach the container (shared.web.root), and through it the API keys, the URL
    signer and the rate limiter. Request bodies are capped at ``body_caps`` per route, else at
    1 MiB."""
    app = FastAPI(title=title, version="0.1.0", lifespan=lifespan)
    app.state.container = container
    install_error_handlers(app)
    app.add_middleware(BodyCap, caps=list(body_caps), default_bytes=JSON_BODY_BYTES)
    app.middleware("http")(request_context)  # outermost: it logs the cap's refusals too
    install_metrics(app, service)
    app.middleware("http")(_operator_surface)
    # the request's server span, continuing the trace nginx started (traceparent); outermost,
    # so the request's log line carries its trace id
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"]
    )
    app.include_router(health_router)
    for router, prefix in routers:
        app.include_router(router, prefix=prefix)
    return app
