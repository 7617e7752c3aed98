from typing import ClassVar

from pydantic import BaseModel, Field

from shared.config import LogSettings, RedisSettings, ServiceSettings, StorageSettings


class IngestSettings(BaseModel):
    max_bytes: int = Field(50 * 1024 * 1024, ge=1, description="largest accepted file")
    max_files: int = Field(1000, ge=1, description="most files in one request")
    task_batch_size: int = Field(16, ge=1, le=256, description="images per indexing task")


class IngestApiSettings(ServiceSettings):
    service: ClassVar[str] = "ingestapi"

    log: LogSettings = LogSettings()
    redis: RedisSettings = RedisSettings()
    storage: StorageSettings
    ingest: IngestSettings = IngestSettings()
