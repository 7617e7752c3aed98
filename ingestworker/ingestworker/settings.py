from typing import ClassVar

from shared.config import (
    EmbeddingSettings,
    LogSettings,
    MilvusSettings,
    RedisSettings,
    ServiceSettings,
    StorageSettings,
)


class IngestWorkerSettings(ServiceSettings):
    service: ClassVar[str] = "ingestworker"

    log: LogSettings = LogSettings()
    redis: RedisSettings = RedisSettings()
    storage: StorageSettings
    milvus: MilvusSettings = MilvusSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
