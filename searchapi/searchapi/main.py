"""searchapi: embeds text queries with CLIP and searches the image vectors in Milvus."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from searchapi.api import health
from searchapi.api.v1 import facets, model, saved_searches, search
from searchapi.container import Container
from searchapi.settings import SearchApiSettings
from shared.errors import AppError
from shared.log import configure_logging, get_logger
from shared.preflight import check_live_model, check_models, exit_on_failure, load_config
from shared.telemetry import configure_tracing
from shared.web import RouteCap, build_app

log = get_logger(__name__)
FORM_OVERHEAD_BYTES = 64 * 1024  # the multipart framing and the text field around the image


async def _compile_saved_searches(container: Container) -> None:
    try:
        await container.saved_search_service().compile_for_live_model()
    except AppError as exc:  # storage away: each is compiled again when its album is read
        log.warning("saved_searches_not_compiled", reason=exc.detail)


def create_app(container: Container | None = None) -> FastAPI:
    if container is None:
        with exit_on_failure():
            settings = load_config(SearchApiSettings)
            configure_logging(settings.log, "searchapi")
            configure_tracing(settings.telemetry, "searchapi")
            check_models(settings.embedding, "searchapi")
            check_live_model(settings.milvus, settings.embedding.model, "searchapi")
        container = Container(settings=settings)
    root = container  # the composition root the lifespan opens and closes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # load the model and open the index before the first query, not during it
        # Every torch call runs on the one inference thread: each thread that calls torch
        # gets an OpenMP thread team of its own, and idle teams spinning beside the busy one
        # made each query ~30% slower on 2 cores. The first inference is slow (lazy init,
        # allocations): a warm-up pays it here, not in a user's query.
        pool = root.inference_pool()
        loop = asyncio.get_running_loop()
        embedder = await loop.run_in_executor(pool, root.embedder)
        await loop.run_in_executor(pool, embedder.embed_texts, ["warm up"])
        await run_in_threadpool(root.init_resources)
        log.info("model_ready", **embedder.info())
        # after a model switch, the saved searches of the old model: compiled again while
        # this process already answers
        compiling = asyncio.create_task(_compile_saved_searches(root))
        yield
        compiling.cancel()
        root.shutdown_resources()

    settings = container.settings()
    return build_app(
        "searchapi",
        "Image Search search API",
        container,
        routers=[
            (search.router, "/api/v1"),
            (facets.router, "/api/v1"),
            (saved_searches.router, "/api/v1"),
            (model.router, "/api/v1"),
            (health.router, ""),
        ],
        lifespan=lifespan,
        body_caps=[
            RouteCap(
                path,
                settings.search.max_upload_bytes + FORM_OVERHEAD_BYTES,
                "search.max_upload_bytes",
            )
            for path in ("/api/v1/image/search", "/api/v1/saved-searches/image")
        ],
    )
