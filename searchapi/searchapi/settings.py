from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from shared.config import (
    EmbeddingSettings,
    LogSettings,
    MilvusSettings,
    ServiceSettings,
    StorageSettings,
)
from shared.web import AuthSettings, RateLimitSettings


class SearchSettings(BaseModel):
    image_url_prefix: str = Field("/images", description="where cdnapi serves images (via nginx)")
    inference_threads: int = Field(1, ge=1, description="threads that run the text encoder")
    max_depth: int = Field(
        1000, ge=1, le=16384, description="deepest result reachable by paging (offset + limit)"
    )
    query_cache_size: int = Field(1024, ge=0, description="text query vectors kept (LRU)")
    facet_depth: int = Field(
        200, ge=1, le=1000, description="a query's facets count its best this many results"
    )
    facet_rows: int = Field(
        10000, ge=1, le=16384, description="the library's facets count at most this many images"
    )
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1, description="largest query image")
    max_pixels: int = Field(
        16_000_000,
        ge=1,
        description="most pixels decoding a query image may hold (JPEG decodes at reduced "
        "size, so large photos pass; a PNG is decoded whole)",
    )
    image_threads: int = Field(
        1, ge=1, description="threads that decode query images (apart from the text encoder's)"
    )
    fusion: Literal["rrf", "weighted"] = Field(
        "weighted",
        description="how the meaning and keyword sides' lists become one (searchapi.fusion); "
        "chosen by make bench-relevance",
    )
    keyword_weight: float = Field(
        0.5, ge=0, le=1, description="weighted fusion: the keyword side's share"
    )
    rrf_k: int = Field(60, ge=1, description="rrf fusion: the rank constant k")
    max_saved_searches: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="saved searches kept, at most (each is matched "
        "against every new image by the worker)",
    )
    keyword_threads: int = Field(
        4, ge=1, description="threads that run keyword searches beside the meaning side's"
    )
    fusion_candidates: int = Field(
        20,
        ge=1,
        le=16384,
        description="how deep the keyword side is read when fusing, at least the page (so is "
        "the meaning side with rrf; weighted reads it to the page): deeper finds more images "
        "that hold some of the words, at a cost per candidate (make bench-relevance, "
        "make bench-search)",
    )


class SearchApiSettings(ServiceSettings):
    service: ClassVar[str] = "searchapi"

    log: LogSettings = LogSettings()
    auth: AuthSettings = AuthSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    # saved searches are kept in object storage
    storage: StorageSettings
    milvus: MilvusSettings = MilvusSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    search: SearchSettings = SearchSettings()
