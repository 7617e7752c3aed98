"""One place that turns errors into `{error, detail}` bodies; never a stack trace."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import AppError, InvalidRequest, TooManyRequests, Unauthorized, Unavailable
from shared.log import get_logger

log = get_logger("errors")


def error_body(code: str, detail: object) -> dict[str, object]:
    return {"error": code, "detail": detail}


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    if exc.status_code >= 500:
        log.warning("request_failed", error=exc.code, detail=exc.detail, path=request.url.path)
    headers = None
    if isinstance(exc, Unavailable | TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after_s)}
    elif isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}
    body = {**error_body(exc.code, exc.detail), **exc.body_extra()}
    return JSONResponse(body, exc.status_code, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]
    return JSONResponse(error_body(InvalidRequest.code, detail), InvalidRequest.status_code)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Routing errors (no such path, wrong method) in the same body shape."""
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, exc.detail), exc.status_code, headers=getattr(exc, "headers", None)
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path)
    return JSONResponse(error_body("internal_error", "internal error"), 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


class ErrorBody(BaseModel):
    error: str = Field(description="a stable code, e.g. not_found")
    detail: str | list[dict[str, object]] = Field(description="what went wrong, for people")
    position: int | None = Field(
        None, description="bad_query only: where in the query (0-based) it stopped reading"
    )


def error_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route, from the errors it can raise: the status, the body
    shape and each error's own description (a bad parameter, 422, goes without saying)."""
    by_status: dict[int, list[type[AppError]]] = {}
    documented: tuple[type[AppError], ...] = (InvalidRequest, *errors)
    for error in documented:
        by_status.setdefault(error.status_code, []).append(error)
    return {
        status: {
            "model": ErrorBody,
            "description": "; ".join(
                f"{e.code}: {(e.__doc__ or e.code).strip().splitlines()[0]}" for e in found
            ),
        }
        for status, found in sorted(by_status.items())
    }
