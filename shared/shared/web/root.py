"""The one root of an API: its container, on app.state. The route dependencies every API
shares (API keys, signed URLs, rate limits) reach what they need through it."""

from typing import Any, Protocol, cast

from fastapi import Request

from shared.web.ratelimit import RateLimiter
from shared.web.signing import UrlSigner


class ApiContainer(Protocol):
    """What each API's container provides to the shared dependencies."""

    def settings(self) -> Any:
        """The service's settings: their `auth` section."""
        ...

    def url_signer(self) -> UrlSigner: ...


class LimitedApiContainer(ApiContainer, Protocol):
    def rate_limiter(self) -> RateLimiter: ...


def container_of(request: Request) -> ApiContainer:
    return cast(ApiContainer, request.app.state.container)
