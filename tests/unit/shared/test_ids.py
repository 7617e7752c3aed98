import hashlib

from shared.ids import content_id, is_content_id, original_key


def test_content_id_is_sha256_of_the_bytes() -> None:
    assert content_id(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert content_id(b"abc") == content_id(b"abc")
    assert content_id(b"abc") != content_id(b"abd")


def test_only_64_lowercase_hex_is_an_id() -> None:
    good = content_id(b"x")
    assert is_content_id(good)
    for bad in [good.upper(), good[:-1], good + "0", "../" + good[3:], "", "z" * 64]:
        assert not is_content_id(bad), bad


def test_original_key_layout() -> None:
    assert original_key("ab") == "originals/ab"
