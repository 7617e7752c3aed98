"""The whole stack as local background processes (no Docker): used by `make up` and the tests."""

from imagesearch_dev.localstack.settings import StackSettings
from imagesearch_dev.localstack.stack import ORDER, Stack

__all__ = ["ORDER", "Stack", "StackSettings"]
