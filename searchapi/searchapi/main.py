"""searchapi: embeds text queries with CLIP and searches the image vectors in Milvus."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from searchapi.api import health
from searchapi.api.v1 import search
from searchapi.container import Container
from searchapi.settings import SearchApiSettings
from shared.config import load_settings
from shared.embedding.availability import require_models
from shared.log import configure_logging, get_logger
from shared.vectors import require_live_model
from shared.web import install_common
from shared.web.metrics import install_metrics
from shared.web.ratelimit import RateLimiter

log = get_logger(__name__)


def create_app(container: Container | None = None) -> FastAPI:
    if container is None:
        settings = load_settings(SearchApiSettings)
        configure_logging(settings.log, "searchapi")
        require_models(settings.embedding, "searchapi")
        require_live_model(settings.milvus, settings.embedding.model, "searchapi")
        container = Container(settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # load the model and open the index before the first query, not during it
        # Every torch call runs on the one inference thread: each thread that calls torch
        # gets an OpenMP thread team of its own, and idle teams spinning beside the busy one
        # made each query ~30% slower on 2 cores. The first inference is slow (lazy init,
        # allocations): a warm-up pays it here, not in a user's query.
        pool = container.inference_pool()
        loop = asyncio.get_running_loop()
        embedder = await loop.run_in_executor(pool, container.embedder)
        await loop.run_in_executor(pool, embedder.embed_texts, ["warm up"])
        await run_in_threadpool(container.init_resources)
        log.info("model_ready", **embedder.info())
        yield
        container.shutdown_resources()

    app = FastAPI(title="Image Search search API", version="0.1.0", lifespan=lifespan)
    app.state.container = container
    app.state.auth = container.settings().auth
    app.state.rate_limiter = RateLimiter(container.settings().rate_limit)
    install_common(app)
    install_metrics(app, "searchapi")
    app.include_router(search.router, prefix="/api/v1")
    app.include_router(health.router)
    return app
