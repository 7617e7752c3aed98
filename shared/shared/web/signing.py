"""Short-lived signed image URLs, in the form nginx's secure_link module checks itself
(`secure_link $arg_sig,$arg_exp; secure_link_md5 "$secure_link_expires$uri <key>"`), so with
protected reads its cache keeps serving images at file speed and only to signed requests.

nginx is given ``link_secret(key)`` (hex) rather than the key, so no character of the key can
become nginx syntax in its config.

The expiry is rounded up to a whole ``ttl_s`` window, so one image's URL stays the same for a
while and browsers reuse what they cached; a URL is valid for between one and two windows.
"""

import base64
import hashlib
import hmac
import time
from collections.abc import Callable


def link_secret(key: str) -> str:
    """What nginx's secure_link_md5 appends: the key's SHA-256 in hex (docker/nginx-env.envsh
    derives it the same way with sha256sum)."""
    return hashlib.sha256(key.encode()).hexdigest()


class UrlSigner:
    def __init__(self, key: str | None, ttl_s: int, now: Callable[[], float] = time.time) -> None:
        self._key = link_secret(key) if key is not None else None
        self._ttl_s = ttl_s
        self._now = now

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def sign(self, path: str) -> str:
        """``path`` as given when signing is off, else with ``?exp=…&sig=…``."""
        if self._key is None:
            return path
        expires = (int(self._now()) // self._ttl_s + 2) * self._ttl_s
        return f"{path}?exp={expires}&sig={self._signature(path, expires)}"

    def verify(self, path: str, expires: str | None, signature: str | None) -> bool:
        if self._key is None or not expires or not signature or not expires.isdigit():
            return False
        if int(expires) < self._now():
            return False
        return hmac.compare_digest(signature, self._signature(path, int(expires)))

    def _signature(self, path: str, expires: int) -> str:
        assert self._key is not None
        # MD5 because that is what nginx's secure_link computes; the key is the suffix
        digest = hashlib.md5(f"{expires}{path} {self._key}".encode()).digest()  # noqa: S324
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
