"""Posting one delivery to a hook's URL, SSRF-safe as URL ingest is (shared.netguard): the
host's every address must be public or allowed, and the connection goes to the address
checked. Redirects are not followed (a receiver that moved says so in the log)."""

from dataclasses import dataclass

import httpx

from shared.netguard import Refused, checked_target, pinned_request
from shared.webhooks.settings import WebhookSettings

USER_AGENT = "image-search-webhooks/0.1"


@dataclass(frozen=True)
class SendResult:
    ok: bool
    http_status: int | None = None
    error: str = ""


class WebhookSender:
    def __init__(
        self, settings: WebhookSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._client = httpx.Client(
            follow_redirects=False,
            timeout=settings.timeout_s,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"},
        )

    def close(self) -> None:
        self._client.close()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        try:
            target, address = checked_target(url, self._settings.allow_networks)
        except Refused as exc:
            return SendResult(ok=False, error=f"refused: {exc.reason}")
        limit = self._settings.timeout_s
        timeouts = {"connect": min(limit, 10.0), "read": limit, "write": limit, "pool": limit}
        request = pinned_request(
            self._client, "POST", target, address, timeouts, headers=headers, content=body
        )
        try:
            # the status is the answer: a body, however large, is never read
            response = self._client.send(request, stream=True)
            response.close()
        except httpx.TimeoutException:
            return SendResult(ok=False, error=f"no answer within {limit:g} s")
        except httpx.HTTPError as exc:
            return SendResult(ok=False, error=f"could not connect: {type(exc).__name__}")
        status = response.status_code
        if 200 <= status < 300:
            return SendResult(ok=True, http_status=status)
        if response.is_redirect:
            return SendResult(False, status, f"HTTP {status}: redirects are not followed")
        return SendResult(False, status, f"HTTP {status}")
