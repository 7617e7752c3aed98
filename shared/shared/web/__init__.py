"""FastAPI pieces every API shares: app set-up, errors, auth, rate limits, health."""

from shared.web.app import build_app
from shared.web.auth import AuthSettings, require_key
from shared.web.body import (
    RouteCap,
    body_errors,
    form_body,
    json_body,
    json_request_body,
    multipart_request_body,
)
from shared.web.errors import ErrorBody, error_responses
from shared.web.links import next_link
from shared.web.ratelimit import RateLimiter, RateLimitSettings, rate_limit
from shared.web.readiness import Checks, readiness_router

__all__ = [
    "AuthSettings",
    "Checks",
    "ErrorBody",
    "RateLimitSettings",
    "RateLimiter",
    "RouteCap",
    "body_errors",
    "build_app",
    "error_responses",
    "form_body",
    "json_body",
    "json_request_body",
    "multipart_request_body",
    "next_link",
    "rate_limit",
    "readiness_router",
    "require_key",
]
