"""Signing a delivery as Stripe does: HMAC-SHA256 with the hook's secret over
``{timestamp}.{body}``, sent as ``X-ImageSearch-Signature: t=<unix seconds>,v1=<hex>``. The
timestamp inside the signed text lets a receiver refuse a replayed old delivery."""

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-ImageSearch-Signature"
TOLERANCE_S = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, now: float, tolerance_s: int = TOLERANCE_S
) -> bool:
    """What a receiver does: the header's timestamp is recent and one of its v1 signatures is
    the body's (compared in constant time)."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(v.strip(), expected) for k, v in parts if k.strip() == "v1")
