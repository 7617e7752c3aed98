"""Downloading an image for URL ingest, SSRF-safe: every hop's host is resolved, every address
it resolves to must be public (or explicitly allowed), and the connection goes to the address
that was checked (pinned; TLS still verifies the host name), so DNS cannot be switched between
the check and the request. Redirects are followed by hand, each one checked the same way."""

import time
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

import httpx

from shared.netguard import FetchSettings, IPAddress, Refused, checked_target, pinned_request

USER_AGENT = "image-search/0.1 (+url ingest)"


class FetchFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Fetched:
    url: str
    filename: str
    data: bytes


class UrlFetcher:
    def __init__(
        self, settings: FetchSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._client = httpx.Client(
            follow_redirects=False,
            timeout=settings.timeout_s,
            transport=transport,
            # images are compressed already: ask for the bytes as they are
            headers={"User-Agent": USER_AGENT, "Accept": "image/*", "Accept-Encoding": "identity"},
        )

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str) -> Fetched:
        deadline = time.monotonic() + self._settings.timeout_s
        current = url
        for hop in range(self._settings.max_redirects + 1):
            label = "" if hop == 0 else f"redirect to {current}: "
            target, address = self._checked(current, label)
            response = self._send(target, address, deadline)
            try:
                if response.is_redirect and "location" in response.headers:
                    current = str(target.join(response.headers["location"]))
                    continue
                if response.status_code != 200:
                    raise FetchFailed(f"{label}the server answered HTTP {response.status_code}")
                data = self._body(response, deadline)
            finally:
                response.close()
            return Fetched(url=url, filename=_filename(target), data=data)
        raise FetchFailed(f"more than {self._settings.max_redirects} redirects")

    def _checked(self, url: str, label: str) -> tuple[httpx.URL, IPAddress]:
        try:
            return checked_target(url, self._settings.allow_networks)
        except Refused as exc:
            raise FetchFailed(f"{label}{exc.reason}") from exc

    def _send(self, target: httpx.URL, address: IPAddress, deadline: float) -> httpx.Response:
        request = pinned_request(self._client, "GET", target, address, self._timeouts(deadline))
        try:
            return self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise FetchFailed(f"download failed: {type(exc).__name__}") from exc

    def _timeouts(self, deadline: float) -> dict[str, float]:
        left = max(0.1, deadline - time.monotonic())
        return {"connect": min(left, 10.0), "read": left, "write": left, "pool": left}

    def _body(self, response: httpx.Response, deadline: float) -> bytes:
        """The body, decoded, read while it arrives and cut off past fetch.max_bytes: the
        compressed bytes and the decompressed ones alike (a small gzip can hold gigabytes)."""
        limit = self._settings.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchFailed(f"the file is {declared} bytes, over the limit of {limit}")
        decoder = _decoder(response.headers.get("content-encoding", ""))
        body, received = bytearray(), 0
        try:
            for chunk in response.iter_raw():
                received += len(chunk)
                while chunk:
                    body += decoder.decompress(chunk, limit + 1 - len(body))
                    if len(body) > limit or received > limit:
                        raise FetchFailed(f"the file is larger than {limit} bytes")
                    chunk = decoder.unconsumed_tail
                if time.monotonic() > deadline:
                    raise FetchFailed(f"took longer than {self._settings.timeout_s} s")
            body += decoder.flush()
        except httpx.HTTPError as exc:
            raise FetchFailed(f"download failed: {type(exc).__name__}") from exc
        except zlib.error as exc:
            raise FetchFailed("the response's compressed body is corrupt") from exc
        if len(body) > limit:
            raise FetchFailed(f"the file is larger than {limit} bytes")
        return bytes(body)


class _Identity:
    """A decompressobj look-alike for a body sent as it is."""

    unconsumed_tail = b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


def _decoder(content_encoding: str) -> "zlib._Decompress | _Identity":
    """One layer of gzip or deflate at most; stacked or other encodings are refused (each
    layer multiplies what a few bytes can expand to)."""
    layers = [e.strip().lower() for e in content_encoding.split(",") if e.strip()]
    layers = [e for e in layers if e != "identity"]
    if len(layers) > 1:
        raise FetchFailed(f"stacked content encodings are refused ({content_encoding[:60]})")
    if not layers:
        return _Identity()
    if layers[0] in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if layers[0] == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    raise FetchFailed(f"content encoding {layers[0][:30]!r} is not accepted")


def _filename(url: httpx.URL) -> str:
    name = PurePosixPath(url.path).name
    return name or url.host
