"""Request bodies: capped per route while they stream, and read only once the route's key and
rate limit checks have passed.

FastAPI reads and parses a declared `Body()` or `Form()` before it runs any dependency, so a
key-less client could make an API hold and parse a body as large as nginx lets through. The
routes here take their body through `json_body` / `form_body`, dependencies that run after the
route's `require_key` and `rate_limit` (listed first in `dependencies=`), and `BodyCap`
refuses a body past its route's cap: at once from Content-Length, else while it streams.
"""

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

from fastapi import Depends, Request, params
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from shared.errors import BadRequest, PayloadTooLarge
from shared.web.errors import error_body

M = TypeVar("M", bound=BaseModel)
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_BODY_BYTES = 1024 * 1024  # 5000 content ids or 1000 long URLs fit with room to spare


class RouteCap:
    """A body cap for the requests whose path matches ``pattern`` (a full match); None: the
    route enforces its own limits while it streams (the multipart upload)."""

    def __init__(self, pattern: str, max_bytes: int | None, key: str = "") -> None:
        self.pattern = re.compile(pattern)
        self.max_bytes = max_bytes
        self.key = key


class BodyCap:
    """ASGI middleware: each request body at most its route's cap (else ``default_bytes``)."""

    def __init__(self, app: ASGIApp, caps: list[RouteCap], default_bytes: int) -> None:
        self.app = app
        self.caps = caps
        self.default_bytes = default_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, key = self._cap_of(scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, _too_large(limit, key))
            return
        seen = 0

        async def capped_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _too_large(limit, key)
            return message

        await self.app(scope, capped_receive, send)

    def _cap_of(self, path: str) -> tuple[int | None, str]:
        for cap in self.caps:
            if cap.pattern.fullmatch(path):
                return cap.max_bytes, cap.key
        return self.default_bytes, ""


def json_body(model: type[M]) -> Any:
    """A dependency that reads and validates the JSON body as ``model`` (422 as FastAPI's own
    would be), after the route's own dependencies; parsing runs in the thread pool."""

    async def parse(request: Request) -> M:
        raw = await request.body()
        try:
            return await run_in_threadpool(model.model_validate_json, raw)
        except ValidationError as exc:
            raise RequestValidationError(body_errors(exc)) from exc

    return Depends(parse)


def form_body(max_fields: int = 16) -> params.Depends:
    """A dependency that reads a multipart form (files spooled to disk past 1 MB by starlette)
    after the route's own dependencies."""

    async def parse(request: Request) -> FormData:
        try:
            return await request.form(max_files=1, max_fields=max_fields)
        except PayloadTooLarge:
            raise
        except Exception as exc:  # starlette's MultiPartException and friends: the client's
            raise BadRequest(f"malformed multipart body: {exc}") from exc

    dependency: params.Depends = Depends(parse)
    return dependency


def json_request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` describing a body read by `json_body` (FastAPI cannot see it)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return _request_body("application/json", schema)


def multipart_request_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """`openapi_extra` describing a multipart form read by the route itself."""
    schema = {"type": "object", "required": required, "properties": properties}
    return _request_body("multipart/form-data", schema)


def _request_body(media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


def body_errors(exc: ValidationError) -> list[Any]:
    """A body model's validation errors located as FastAPI locates its own (under "body")."""
    errors = exc.errors(include_url=False, include_context=False)
    for error in errors:
        error["loc"] = ("body", *error["loc"])
    return list(errors)


def _too_large(limit: int, key: str) -> PayloadTooLarge:
    named = f" ({key})" if key else ""
    return PayloadTooLarge(f"request body is over {limit} bytes{named}")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, error: PayloadTooLarge) -> None:
    body = json.dumps(error_body(error.code, error.detail)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
