"""API keys: write endpoints need one as soon as any key is configured; read endpoints too when
`auth.protect_reads` is on. Keys come from config or the environment and are compared in
constant time (every configured key is compared, whichever matches).

With protected reads, image URLs in responses are signed (`shared.web.signing`): nginx checks
the signature itself, cdnapi accepts it in place of a key. Without keys, a write from a browser
must come from the page's own origin, so no other web page can upload to a local instance.
"""

import hmac
import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from fastapi import Depends, Request, params
from pydantic import BaseModel, Field, field_validator, model_validator

from shared.config import Secret
from shared.errors import Forbidden, Unauthorized
from shared.web.root import container_of
from shared.web.signing import UrlSigner


class AuthSettings(BaseModel):
    api_keys: list[Secret] = Field(
        default_factory=list, description="none: the API is open (a local, single-user stack)"
    )
    protect_reads: bool = Field(False, description="reads need a key (or a signed URL) too")
    url_signing_key: Secret | None = Field(
        None, description="signs image URLs when reads are protected; nginx needs the same key"
    )
    signed_url_ttl_s: int = Field(3600, ge=60, description="a signed URL lasts 1-2 times this")
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="other sites allowed to write without a key (the page's own always is)",
    )
    exposed_on: str = Field(
        "127.0.0.1", description="the address clients reach the stack on (nginx's published one)"
    )
    allow_keyless: bool = Field(
        False, description="run without keys on an address other than loopback, on purpose"
    )
    open_docs: bool = Field(
        False, description="/docs and /openapi.json without a key when keys are set"
    )
    open_metrics: bool = Field(
        False,
        description="/metrics without a key when keys are set (a scraper on a private network)",
    )

    @field_validator("url_signing_key", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _consistent(self) -> "AuthSettings":
        if self.protect_reads and not self.api_keys:
            raise ValueError("protect_reads needs auth.api_keys: reads would need a key")
        # every API checks it at start: each signs image URLs or checks their signatures
        self.require_signing_key()
        if not self.api_keys and not self.allow_keyless and not _is_loopback(self.exposed_on):
            raise ValueError(
                f"no API keys, and the stack is reached on {self.exposed_on}: anyone there "
                "could upload and read. Set auth.api_keys, or auth.allow_keyless: true to run "
                "open on purpose"
            )
        return self

    @property
    def reads_protected(self) -> bool:
        return self.protect_reads and bool(self.api_keys)

    def require_signing_key(self) -> None:
        """For the services that sign image URLs or check their signatures."""
        if self.reads_protected and self.url_signing_key is None:
            raise ValueError(
                "protect_reads needs auth.url_signing_key: image URLs are signed with it "
                "(give nginx the same key)"
            )

    def url_signer(self) -> UrlSigner:
        key = self.url_signing_key if self.reads_protected else None
        return UrlSigner(key.get_secret_value() if key else None, self.signed_url_ttl_s)


def presented_key(request: Request) -> str | None:
    """`Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


def key_is_valid(presented: str, keys: list[Secret]) -> bool:
    given = presented.encode()
    matches = [hmac.compare_digest(given, key.get_secret_value().encode()) for key in keys]
    return any(matches)


def require_key(kind: Literal["write", "read"], signed_urls: bool = False) -> params.Depends:
    """A route dependency: `dependencies=[require_key("write")]`. With ``signed_urls`` a valid
    URL signature stands in for a key (cdnapi's image routes)."""

    def check(request: Request) -> None:
        settings: AuthSettings = container_of(request).settings().auth
        if not settings.api_keys:
            if kind == "write":
                _require_same_origin(request, settings.allowed_origins)
            return
        if kind == "read" and not settings.reads_protected:
            return
        presented = presented_key(request)
        if presented is None:
            if signed_urls and _signed(request):
                return
            raise Unauthorized("an API key is required: Authorization: Bearer <key>")
        if not key_is_valid(presented, settings.api_keys):
            raise Unauthorized("the API key is not valid")

    dependency: params.Depends = Depends(check)
    return dependency


# what an operator reads, never a user: behind the key whenever keys are set, unless opened
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
METRICS_PATH = "/metrics"


def operator_surface_refusal(request: Request) -> Unauthorized | None:
    """The refusal of a request for the docs or the metrics without a valid key, when keys are
    set and that surface is not opened (auth.open_docs, auth.open_metrics)."""
    path = request.url.path
    if path != METRICS_PATH and path not in DOCS_PATHS:
        return None
    settings: AuthSettings = container_of(request).settings().auth
    opened = settings.open_metrics if path == METRICS_PATH else settings.open_docs
    if not settings.api_keys or opened:
        return None
    presented = presented_key(request)
    if presented is not None and key_is_valid(presented, settings.api_keys):
        return None
    return Unauthorized(f"{path} needs an API key (or auth.open_docs / auth.open_metrics)")


def _signed(request: Request) -> bool:
    signer = container_of(request).url_signer()
    query = request.query_params
    return signer.verify(request.url.path, query.get("exp"), query.get("sig"))


def _require_same_origin(request: Request, allowed: list[str]) -> None:
    """Browsers name the page that sent a request (Origin, else Referer); clients that are not
    browsers send neither and pass: without keys they are trusted like the page."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return
    sent_from = _netloc(origin)
    if sent_from is not None and (
        sent_from == _netloc(f"//{request.headers.get('host', '')}")
        or sent_from in {_netloc(a) for a in allowed}
    ):
        return
    raise Forbidden(
        "a write from another site is refused: send an API key, or add that site to "
        "auth.allowed_origins"
    )


def _netloc(url: str) -> str | None:
    """host[:port] in lower case, ports 80 and 443 dropped (TLS may end before the app, so
    the page's scheme and the request's can differ); None for 'null'."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    return host if port in (None, 80, 443) else f"{host}:{port}"


def _is_loopback(address: str) -> bool:
    host = address.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
