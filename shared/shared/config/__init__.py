from shared.config.base import ServiceSettings, describe_error
from shared.config.sections import (
    DerivedSettings,
    EmbeddingSettings,
    Limit,
    LogSettings,
    MilvusSettings,
    RedisSettings,
    StorageSettings,
)

__all__ = [
    "DerivedSettings",
    "EmbeddingSettings",
    "Limit",
    "LogSettings",
    "MilvusSettings",
    "RedisSettings",
    "ServiceSettings",
    "StorageSettings",
    "describe_error",
]
