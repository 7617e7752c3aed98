"""FastAPI pieces every API shares: error rendering, request logging, health."""

from fastapi import APIRouter, FastAPI

from shared.web.errors import install_error_handlers
from shared.web.middleware import request_context
from shared.web.readiness import readiness_router

health_router = APIRouter()


@health_router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def install_common(app: FastAPI) -> None:
    install_error_handlers(app)
    app.middleware("http")(request_context)
    app.include_router(health_router)


__all__ = ["install_common", "readiness_router"]
