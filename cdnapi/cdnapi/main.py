"""cdnapi: streams image bytes by content id."""

from fastapi import FastAPI

from cdnapi.api import images
from cdnapi.container import Container
from cdnapi.settings import CdnApiSettings
from shared.config import load_settings
from shared.log import configure_logging
from shared.web import install_common, readiness_router
from shared.web.metrics import install_metrics


def create_app(container: Container | None = None) -> FastAPI:
    if container is None:
        settings = load_settings(CdnApiSettings)
        configure_logging(settings.log, "cdnapi")
        container = Container(settings=settings)
    app = FastAPI(title="Image Search image delivery", version="0.1.0")
    app.state.container = container
    app.state.auth = container.settings().auth
    install_common(app)
    install_metrics(app, "cdnapi")
    app.include_router(images.router)
    app.include_router(readiness_router(lambda _: {"storage": container.object_store().ping}))
    return app
