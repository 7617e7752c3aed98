from shared.config.base import ServiceSettings, load_settings
from shared.config.sections import (
    DerivedSettings,
    EmbeddingSettings,
    LogSettings,
    MilvusSettings,
    RedisSettings,
    StorageSettings,
)

__all__ = [
    "DerivedSettings",
    "EmbeddingSettings",
    "LogSettings",
    "MilvusSettings",
    "RedisSettings",
    "ServiceSettings",
    "StorageSettings",
    "load_settings",
]
