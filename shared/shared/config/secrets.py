"""Secrets that are still the examples' placeholders are refused at start: a stack must not run
with a password anyone can read in `.env.example`."""

from typing import Annotated

from pydantic import AfterValidator, SecretStr

_PLACEHOLDER_PARTS = ("change-me", "changeme", "change_me", "replace-me", "your-secret")
_PLACEHOLDERS = {"secret", "password", "minioadmin", "example", "xxx"}


def is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in _PLACEHOLDERS or any(part in lowered for part in _PLACEHOLDER_PARTS)


def _not_placeholder(value: SecretStr) -> SecretStr:
    if is_placeholder(value.get_secret_value()):
        raise ValueError("is still a placeholder from the examples: set a real secret")
    return value


Secret = Annotated[SecretStr, AfterValidator(_not_placeholder)]
