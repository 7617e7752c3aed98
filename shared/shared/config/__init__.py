from shared.config.base import CONF_DIR_ENV, ServiceSettings, describe_error
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
    "CONF_DIR_ENV",
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
