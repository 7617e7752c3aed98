"""Deliveries are signed as Stripe signs them: HMAC-SHA256 over "<timestamp>.<body>"; a
receiver checks the signature in constant time and refuses an old timestamp (a replay)."""

import hashlib
import hmac

from shared.webhooks.signature import new_secret, sign, verify

SECRET = "whsec_test-secret-of-enough-length"
BODY = b'{"id":"evt_1","type":"image.indexed"}'


def test_the_signature_is_the_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1_700_000_000, BODY) == f"t=1700000000,v1={expected}"


def test_a_receiver_accepts_the_signed_body_and_refuses_any_change() -> None:
    header = sign(SECRET, 1_700_000_000, BODY)
    assert verify(SECRET, header, BODY, now=1_700_000_010)
    assert not verify(SECRET, header, BODY + b" ", now=1_700_000_010)  # body changed
    assert not verify("whsec_another-secret-entirely", header, BODY, now=1_700_000_010)
    assert not verify(SECRET, header.replace("t=1700000000", "t=1700000001"), BODY, 1_700_000_010)


def test_an_old_or_future_timestamp_is_refused() -> None:
    header = sign(SECRET, 1_700_000_000, BODY)
    assert verify(SECRET, header, BODY, now=1_700_000_300)
    assert not verify(SECRET, header, BODY, now=1_700_000_301)  # replayed 5 min later
    assert not verify(SECRET, header, BODY, now=1_699_999_699)


def test_a_header_with_another_v1_beside_the_right_one_passes_and_malformed_ones_fail() -> None:
    right = sign(SECRET, 1_700_000_000, BODY)
    assert verify(SECRET, right + ",v1=" + "0" * 64, BODY, now=1_700_000_000)
    for header in ("", "t=,v1=", "v1=abc", "t=x,v1=abc", "t=1700000000", "garbage",
                   right + ",t=1700000000"):  # fmt: skip
        assert not verify(SECRET, header, BODY, now=1_700_000_000), header


def test_made_secrets_differ_and_are_long() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100 and all(len(s) > 40 for s in secrets)
