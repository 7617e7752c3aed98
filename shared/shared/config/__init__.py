from shared.config.base import CONF_DIR_ENV, ServiceSettings, describe_error
from shared.config.secrets import Secret, is_placeholder
from shared.config.sections import (
    DerivedSettings,
    EmbeddingSettings,
    Limit,
    LogSettings,
    MilvusSettings,
    RedisSettings,
    StorageSettings,
    TelemetrySettings,
)

__all__ = [
    "CONF_DIR_ENV",
    "DerivedSettings",
    "EmbeddingSettings",
    "Limit",
    "LogSettings",
    "MilvusSettings",
    "RedisSettings",
    "Secret",
    "ServiceSettings",
    "StorageSettings",
    "TelemetrySettings",
    "describe_error",
    "is_placeholder",
]
