import base64
import hashlib

from shared.web.signing import UrlSigner, link_secret

NOW = 1_800_000_000.0


def test_signed_urls_verify_until_they_expire() -> None:
    clock = [NOW]
    signer = UrlSigner("s3cr3t-key", ttl_s=3600, now=lambda: clock[0])
    url = signer.sign("/images/abc/thumbnail")
    path, _, query = url.partition("?")
    values = dict(part.split("=") for part in query.split("&"))
    assert path == "/images/abc/thumbnail"
    assert signer.verify(path, values["exp"], values["sig"])
    assert not signer.verify("/images/abd/thumbnail", values["exp"], values["sig"])
    assert not signer.verify(path, str(int(values["exp"]) + 1), values["sig"])
    assert not signer.verify(path, values["exp"], None)
    assert not UrlSigner("other-key", 3600, lambda: NOW).verify(path, values["exp"], values["sig"])
    clock[0] = int(values["exp"]) + 1.0
    assert not signer.verify(path, values["exp"], values["sig"])


def test_a_url_lasts_one_to_two_windows_and_stays_the_same_within_one() -> None:
    first = UrlSigner("k-123", ttl_s=3600, now=lambda: NOW)
    later = UrlSigner("k-123", ttl_s=3600, now=lambda: NOW + 1)
    assert first.sign("/images/a") == later.sign("/images/a")  # browsers reuse their copy
    expires = int(first.sign("/images/a").split("exp=")[1].split("&")[0])
    assert 3600 <= expires - NOW <= 7200


def test_the_signature_is_the_one_nginx_secure_link_computes() -> None:
    # secure_link_md5 "$secure_link_expires$uri <the key's SHA-256 in hex>", base64url without
    # padding: the hex is what nginx's config holds, whatever characters the key has
    signer = UrlSigner('k-123"$x', ttl_s=3600, now=lambda: NOW)
    url = signer.sign("/images/a")
    expires = url.split("exp=")[1].split("&")[0]
    secret = hashlib.sha256(b'k-123"$x').hexdigest()
    assert link_secret('k-123"$x') == secret
    digest = hashlib.md5(f"{expires}/images/a {secret}".encode()).digest()
    assert url.endswith("sig=" + base64.urlsafe_b64encode(digest).decode().rstrip("="))


def test_without_a_key_urls_are_left_as_they_are() -> None:
    signer = UrlSigner(None, ttl_s=3600)
    assert signer.sign("/images/a") == "/images/a"
    assert not signer.enabled
    assert not signer.verify("/images/a", "9999999999", "x")
