"""Prometheus metrics of an API: requests by route, method and status, their latency, and
`GET /metrics` to scrape them (with whatever the service itself records)."""

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter(
    "imagesearch_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "imagesearch_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
_UNMEASURED = {"/metrics", "/healthz", "/readyz"}


def install_metrics(app: FastAPI, service: str) -> None:
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = _template(request)
            if route not in _UNMEASURED:
                method = request.method
                REQUESTS.labels(service, method, route, str(status)).inc()
                LATENCY.labels(service, method, route).observe(time.perf_counter() - started)

    app.middleware("http")(measure)
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)


def _template(request: Request) -> str:
    """The route as a template ("/images/{image_id}"), never the raw path: ids must not become
    label values, and paths no route matched are one label."""
    if "route" not in request.scope:
        return "unmatched"
    names = {str(value): name for name, value in request.path_params.items()}
    parts = request.url.path.split("/")
    return "/".join(f"{{{names[part]}}}" if part in names else part for part in parts)
