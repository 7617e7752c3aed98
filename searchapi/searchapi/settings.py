from typing import ClassVar

from pydantic import BaseModel, Field

from shared.config import EmbeddingSettings, LogSettings, MilvusSettings, ServiceSettings


class SearchSettings(BaseModel):
    max_limit: int = Field(200, ge=1, le=16384)
    image_url_prefix: str = Field("/images", description="where cdnapi serves images (via nginx)")
    inference_threads: int = Field(1, ge=1, description="threads that run the text encoder")


class SearchApiSettings(ServiceSettings):
    service: ClassVar[str] = "searchapi"

    log: LogSettings = LogSettings()
    milvus: MilvusSettings = MilvusSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    search: SearchSettings = SearchSettings()
