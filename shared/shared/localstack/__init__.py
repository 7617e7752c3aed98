"""The whole stack as local background processes (no Docker): used by `make up` and the tests."""

from shared.localstack.settings import StackSettings
from shared.localstack.stack import Stack

__all__ = ["Stack", "StackSettings"]
