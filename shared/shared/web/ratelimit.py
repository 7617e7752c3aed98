"""Per-client rate limits (moving window, the `limits` library): 429 with Retry-After.

The client is the peer's address, or the X-Real-IP a trusted proxy (nginx) sends with the
request: anything else that reaches an API directly cannot pick its own bucket.
`storage_uri` memory:// limits each process alone; redis://… shares the counts between
replicas. When that storage does not answer, requests are served unlimited (logged and counted
in imagesearch_rate_limit_errors_total): an outage of the limiter must not take search down."""

import ipaddress
import math
import time
from typing import TYPE_CHECKING, Literal, cast

from fastapi import Depends, Request, params
from fastapi.concurrency import run_in_threadpool
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import Counter
from pydantic import BaseModel, Field, IPvAnyNetwork, field_validator

from shared.errors import TooManyRequests
from shared.log import get_logger

if TYPE_CHECKING:
    from shared.web.root import LimitedApiContainer

Bucket = Literal["upload", "search", "read", "write"]
log = get_logger(__name__)
LIMITER_ERRORS = Counter(
    "imagesearch_rate_limit_errors_total",
    "requests let through unlimited because the rate limit's storage did not answer",
    ["bucket"],
)


class RateLimitSettings(BaseModel):
    enabled: bool = True
    storage_uri: str = Field("memory://", description="memory://, or redis://host:6379/1")
    upload: str = Field("120/minute", description="upload and URL-ingest requests per client")
    search: str = Field("600/minute", description="search requests per client")
    read: str = Field(
        "1200/minute", description="other reads per client: status, browse, stats, jobs, duplicates"
    )
    write: str = Field("300/minute", description="other writes per client: delete, edit, check")
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=lambda: [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1")],
        description="peers whose X-Real-IP names the client (nginx's address)",
    )

    @field_validator("upload", "search", "read", "write")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse(value)  # "10/second", "120 per minute"…: ValueError names the problem
        return value


class RateLimiter:
    def __init__(self, settings: RateLimitSettings) -> None:
        self._enabled = settings.enabled
        self._trusted = settings.trusted_proxies
        storage = storage_from_string(settings.storage_uri)
        # counted in this process: no network call, so no need to leave the event loop
        self.in_process = settings.storage_uri.startswith("memory://")
        self._strategy = MovingWindowRateLimiter(storage)
        self._items: dict[str, RateLimitItem] = {
            "upload": parse(settings.upload),
            "search": parse(settings.search),
            "read": parse(settings.read),
            "write": parse(settings.write),
        }

    def hit(self, bucket: Bucket, client: str) -> None:
        if not self._enabled:
            return
        item = self._items[bucket]
        try:
            allowed = self._strategy.hit(item, bucket, client)
        except Exception as exc:  # the counts' storage (Redis) is down: serve, don't fail
            LIMITER_ERRORS.labels(bucket).inc()
            log.warning("rate_limit_unavailable", bucket=bucket, error=type(exc).__name__)
            return
        if allowed:
            return
        reset_at = self._strategy.get_window_stats(item, bucket, client).reset_time
        raise TooManyRequests(
            f"over the {bucket} rate limit ({item.amount} per {item.multiples} "
            f"{item.GRANULARITY.name}); retry later",
            retry_after_s=max(1, math.ceil(reset_at - time.time())),
        )

    def client_of(self, request: Request) -> str:
        peer = request.client.host if request.client else ""
        forwarded = request.headers.get("x-real-ip")
        if forwarded and self._is_trusted(peer):
            return forwarded.strip()
        return peer

    def _is_trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self._trusted)


def rate_limit(bucket: Bucket) -> params.Depends:
    """A route dependency: `dependencies=[rate_limit("search")]` (a Redis-backed limiter makes a
    network call, so it is asked from the thread pool)."""

    async def check(request: Request) -> None:
        limiter = cast("LimitedApiContainer", request.app.state.container).rate_limiter()
        client = limiter.client_of(request)
        if limiter.in_process:
            limiter.hit(bucket, client)
        else:
            await run_in_threadpool(limiter.hit, bucket, client)

    dependency: params.Depends = Depends(check)
    return dependency
