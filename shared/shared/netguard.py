"""Which addresses a server-side fetch may reach (SSRF guard): public ones only, unless an
operator allows a network (an intranet image server, a test fixture)."""

import ipaddress
import socket
from collections.abc import Sequence

import httpx
from pydantic import BaseModel, Field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
SCHEMES = ("http", "https")
MAX_URL_CHARS = 2048


class FetchSettings(BaseModel):
    """URL ingest: what the worker downloads, and the limits it keeps."""

    max_bytes: int = Field(50 * 1024 * 1024, ge=1, description="largest download")
    max_pixels: int = Field(100_000_000, ge=1, description="most pixels (decompression bombs)")
    max_decoded_pixels: int = Field(
        32_000_000, ge=1, description="most pixels decoding one may hold (JPEG: reduced size)"
    )
    timeout_s: float = Field(30.0, gt=0, description="whole download, redirects included")
    max_redirects: int = Field(3, ge=0, le=10)
    allow_networks: list[IPNetwork] = Field(
        default_factory=list, description="non-public networks that may be fetched anyway"
    )


def refusal(address: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why this address may not be fetched ("a loopback address"), or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in network for network in allowed):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        # an IPv4 address carried inside IPv6 (6to4, Teredo, NAT64) reaches that IPv4 host:
        # judged as that host, whatever this Python's tables say of the IPv6 prefix
        for form, inner in _tunnelled(address):
            if why := refusal(inner, allowed):
                return f"{why} in {form} form"
    for label, hit in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved or address.is_unspecified),
        ("not public", not address.is_global),
    ):
        if hit:
            return f"a {label} address"
    return None


_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def _tunnelled(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    found = []
    if address.sixtofour is not None:
        found.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        found += [("Teredo", server), ("Teredo", client)]
    if any(address in network for network in _NAT64):
        found.append(("NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)))
    return found


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the name resolves to (all must be allowed, not just the first)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


def url_refusal(url: str, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """What is wrong with a URL before any lookup: syntax, scheme, a forbidden literal address."""
    if len(url) > MAX_URL_CHARS:
        return f"URL is longer than {MAX_URL_CHARS} characters"
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "not a valid URL"
    if parsed.scheme not in SCHEMES:
        return "only http and https URLs are fetched"
    if not parsed.host:
        return "URL has no host"
    address = literal_address(parsed.host)
    why = refusal(address, allowed) if address else None
    return f"{address} is {why}" if why else None


class Refused(Exception):
    """A URL a server-side request may not reach, and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def checked_target(url: str, allowed: Sequence[IPNetwork] = ()) -> tuple[httpx.URL, IPAddress]:
    """The URL and the address to connect to: every address its host resolves to must be
    allowed (not just the first), and the connection goes to the one checked (pinned_request),
    so DNS cannot be switched between the check and the request. Refused says why not."""
    if why := url_refusal(url, allowed):
        raise Refused(why)
    target = httpx.URL(url)
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        addresses = resolve(target.host, port)
    except OSError as exc:
        raise Refused(f"cannot resolve {target.host}") from exc
    for address in addresses:
        if why := refusal(address, allowed):
            # the reason names the kind of address, never the internal address itself
            raise Refused(f"{target.host} resolves to {why}")
    if not addresses:
        raise Refused(f"{target.host} has no address")
    return target, addresses[0]


def pinned_request(
    client: httpx.Client,
    method: str,
    target: httpx.URL,
    address: IPAddress,
    timeouts: dict[str, float],
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Request:
    """A request to ``address`` for ``target``: Host and TLS SNI keep the name."""
    pinned = target.copy_with(host=str(address))
    return client.build_request(
        method,
        pinned,
        headers={**(headers or {}), "Host": target.netloc.decode("ascii")},
        content=content,
        extensions={"sni_hostname": target.host, "timeout": timeouts},
    )
