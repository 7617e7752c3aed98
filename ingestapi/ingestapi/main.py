"""ingestapi: accepts bulk uploads, stores originals, queues them for indexing."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from ingestapi.api.v1 import images, jobs
from ingestapi.container import Container
from ingestapi.settings import IngestApiSettings
from shared.config import load_settings
from shared.errors import Unavailable
from shared.log import configure_logging, get_logger
from shared.web import install_common, readiness_router
from shared.web.metrics import install_metrics
from shared.web.ratelimit import RateLimiter

log = get_logger(__name__)


def create_app(container: Container | None = None) -> FastAPI:
    if container is None:
        settings = load_settings(IngestApiSettings)
        configure_logging(settings.log, "ingestapi")
        container = Container(settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(container.object_store().ensure_bucket)
        except Unavailable as exc:
            log.warning("storage_unavailable_at_start", detail=exc.detail)
        yield
        container.shutdown_resources()

    app = FastAPI(title="Image Search ingest API", version="0.1.0", lifespan=lifespan)
    app.state.container = container
    app.state.auth = container.settings().auth
    app.state.rate_limiter = RateLimiter(container.settings().rate_limit)
    install_common(app)
    install_metrics(app, "ingestapi")
    app.include_router(images.router, prefix="/api/v1")
    app.include_router(jobs.router, prefix="/api/v1")
    app.include_router(
        readiness_router(
            lambda _: {
                "redis": container.job_store().ping,
                "storage": container.object_store().ping,
                "milvus": container.live_index().ping,
            }
        )
    )
    return app
