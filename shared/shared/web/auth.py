"""API keys: write endpoints need one as soon as any key is configured; read endpoints too when
`auth.protect_reads` is on. Keys come from config or the environment and are compared in
constant time (every configured key is compared, whichever matches)."""

import hmac
from typing import Literal

from fastapi import Depends, Request, params
from pydantic import BaseModel, Field, SecretStr

from shared.errors import Unauthorized


class AuthSettings(BaseModel):
    api_keys: list[SecretStr] = Field(
        default_factory=list, description="none: the API is open (a local, single-user stack)"
    )
    protect_reads: bool = Field(False, description="reads need a key too")


def presented_key(request: Request) -> str | None:
    """`Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


def key_is_valid(presented: str, keys: list[SecretStr]) -> bool:
    given = presented.encode()
    matches = [hmac.compare_digest(given, key.get_secret_value().encode()) for key in keys]
    return any(matches)


def require_key(kind: Literal["write", "read"]) -> params.Depends:
    """A route dependency: `dependencies=[require_key("write")]`."""

    def check(request: Request) -> None:
        settings: AuthSettings = request.app.state.auth
        if not settings.api_keys or (kind == "read" and not settings.protect_reads):
            return
        presented = presented_key(request)
        if presented is None:
            raise Unauthorized("an API key is required: Authorization: Bearer <key>")
        if not key_is_valid(presented, settings.api_keys):
            raise Unauthorized("the API key is not valid")

    dependency: params.Depends = Depends(check)
    return dependency
