"""The set-up every API shares: errors, request logging, metrics, health, auth and limits."""

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from shared.web.body import JSON_BODY_BYTES, BodyCap, RouteCap
from shared.web.errors import install_error_handlers
from shared.web.metrics import install_metrics
from shared.web.middleware import request_context

health_router = APIRouter()


@health_router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


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
    # the request's server span, continuing the trace nginx started (traceparent); outermost,
    # so the request's log line carries its trace id
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"]
    )
    app.include_router(health_router)
    for router, prefix in routers:
        app.include_router(router, prefix=prefix)
    return app
