"""Making nginx's image cache forget a deleted image, on every nginx.

nginx keeps image bytes for a year under their path. Stock nginx has no purge, so each nginx
has an internal refresh listener on the same cache that always asks cdnapi and stores a 404
for a second or two (conf/nginx/refresh.conf): asking it for each path of a deleted image
replaces the cached bytes with that 404. Every address a target's name resolves to is one
nginx, so a headless service reaches every replica. The requests are signed when image reads
are protected, as cdnapi then wants a key or a signature.

A cache fill under way when the delete lands cannot write the bytes back: cdnapi cuts such a
response short before its last chunk, and nginx keeps no response cut short. The refresh is
asked once more ``refresh_again_s`` later, for the last milliseconds of a fill that had already
passed cdnapi's check."""

import asyncio
import contextlib
import socket
import threading
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field

from shared.errors import Unavailable
from shared.log import get_logger
from shared.web.signing import UrlSigner

log = get_logger(__name__)


class ImageCacheSettings(BaseModel):
    targets: list[str] = Field(
        default_factory=list,
        description="http://host:port of nginx's cache refresh listener; every address of "
        "host is one nginx (empty: no image cache to clear)",
    )
    timeout_s: float = Field(5.0, gt=0)
    refresh_again_s: float = Field(
        3.0, ge=0, description="the refresh is repeated after this long (0: not repeated)"
    )


def image_paths(image_id: str) -> list[str]:
    """Every path nginx caches an image under."""
    return [f"/images/{image_id}", f"/images/{image_id}/thumbnail", f"/images/{image_id}/preview"]


class NginxImageCache:
    def __init__(self, settings: ImageCacheSettings, signer: UrlSigner) -> None:
        self._settings = settings
        self._signer = signer

    def forget(self, image_ids: Sequence[str]) -> None:
        """Call once the images are gone from storage. Raises Unavailable when any nginx
        could not be asked: the image may still be served from its cache."""
        if not self._settings.targets or not image_ids:
            return
        paths = [self._signer.sign(p) for image_id in image_ids for p in image_paths(image_id)]
        servers = self._servers()
        asyncio.run(self._refresh_all(servers, paths))
        if self._settings.refresh_again_s > 0:
            again = threading.Timer(self._settings.refresh_again_s, self._again, (servers, paths))
            again.daemon = True
            again.start()

    def _again(self, servers: list[tuple[str, str]], paths: list[str]) -> None:
        # a failure is logged; the first refresh is what the delete answered for
        with contextlib.suppress(Unavailable):
            asyncio.run(self._refresh_all(servers, paths))

    def _servers(self) -> list[tuple[str, str]]:
        """Every nginx behind the targets: its address, and the Host it answers refreshes to
        (the target's own name: the listener answers no other)."""
        servers: list[tuple[str, str]] = []
        for target in self._settings.targets:
            parts = urlsplit(target)
            host, port = parts.hostname or "", parts.port or 80
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise Unavailable(f"image cache {host!r} not found") from exc
            for address in dict.fromkeys(str(info[4][0]) for info in infos):
                shown = f"[{address}]" if ":" in address else address
                servers.append((f"{parts.scheme or 'http'}://{shown}:{port}", parts.netloc))
        return servers

    async def _refresh_all(self, servers: list[tuple[str, str]], paths: list[str]) -> None:
        limits = httpx.Limits(max_connections=8)
        async with httpx.AsyncClient(timeout=self._settings.timeout_s, limits=limits) as client:
            results = await asyncio.gather(
                *(self._refresh(client, server, path) for server in servers for path in paths),
                return_exceptions=True,
            )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            log.warning(
                "image_cache_refresh_failed", failures=len(failures), error=str(failures[0])
            )
            raise Unavailable("the image cache could not be cleared; delete again")

    @staticmethod
    async def _refresh(client: httpx.AsyncClient, server: tuple[str, str], path: str) -> None:
        address, host = server
        response = await client.get(f"{address}{path}", headers={"Host": host})
        # 404: gone, and now cached as gone; 200: uploaded again meanwhile, and cached as such
        if response.status_code not in (200, 404):
            raise RuntimeError(f"refresh of {path} answered {response.status_code}")
