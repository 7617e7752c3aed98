"""cdnapi: streams image bytes by content id."""

from fastapi import FastAPI

from cdnapi.api import health
from cdnapi.api.v1 import images
from cdnapi.container import Container
from cdnapi.settings import CdnApiSettings
from shared.log import configure_logging
from shared.preflight import exit_on_failure, load_config
from shared.telemetry import configure_tracing
from shared.web import build_app


def create_app(container: Container | None = None) -> FastAPI:
    if container is None:
        with exit_on_failure():
            settings = load_config(CdnApiSettings)
        configure_logging(settings.log, "cdnapi")
        configure_tracing(settings.telemetry, "cdnapi")
        container = Container(settings=settings)
    return build_app(
        "cdnapi",
        "Image Search image delivery",
        container,
        # image URLs are permanent (content ids), so they carry no version prefix
        routers=[(images.router, ""), (health.router, "")],
    )
