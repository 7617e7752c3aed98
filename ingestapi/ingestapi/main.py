"""ingestapi: accepts bulk uploads, stores originals, queues them for indexing."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from ingestapi.api import health
from ingestapi.api.v1 import images, jobs, library, model_evaluations, webhooks
from ingestapi.container import Container
from ingestapi.settings import IngestApiSettings
from shared.errors import Unavailable
from shared.log import configure_logging, get_logger
from shared.preflight import exit_on_failure, load_config
from shared.telemetry import configure_tracing
from shared.web import RouteCap, build_app

log = get_logger(__name__)


def create_app(container: Container | None = None) -> FastAPI:
    if container is None:
        with exit_on_failure():
            settings = load_config(IngestApiSettings)
        configure_logging(settings.log, "ingestapi")
        configure_tracing(settings.telemetry, "ingestapi")
        container = Container(settings=settings)
    root = container  # the composition root the lifespan opens and closes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(root.object_store().ensure_bucket)
        except Unavailable as exc:
            log.warning("storage_unavailable_at_start", detail=exc.detail)
        yield
        root.shutdown_resources()

    settings = container.settings()
    return build_app(
        "ingestapi",
        "Image Search ingest API",
        container,
        routers=[
            (images.router, "/api/v1"),
            (library.router, "/api/v1"),
            (jobs.router, "/api/v1"),
            (webhooks.router, "/api/v1"),
            (model_evaluations.router, "/api/v1"),
            (health.router, ""),
        ],
        lifespan=lifespan,
        # uploads stream: each file is cut off at its own limit (ingestapi.multipart)
        body_caps=[RouteCap("/api/v1/images", None)],
    )
