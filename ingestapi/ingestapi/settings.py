from typing import ClassVar

from pydantic import BaseModel, Field

from ingestapi.image_cache import ImageCacheSettings
from shared.config import (
    LogSettings,
    MilvusSettings,
    RedisSettings,
    ServiceSettings,
    StorageSettings,
)
from shared.netguard import FetchSettings
from shared.web import AuthSettings, RateLimitSettings
from shared.webhooks.settings import WebhookSettings


class IngestSettings(BaseModel):
    max_bytes: int = Field(50 * 1024 * 1024, ge=1, description="largest accepted file")
    max_pixels: int = Field(100_000_000, ge=1, description="most pixels (decompression bombs)")
    max_decoded_pixels: int = Field(
        32_000_000,
        ge=1,
        description="most pixels decoding a file may hold: JPEGs decode at reduced size, so "
        "this limits PNG, WebP, TIFF… (about 4 bytes a pixel); also ingestapi's budget for "
        "decodes at once",
    )
    max_files: int = Field(
        1000, ge=1, description="most files in one request, zip members included"
    )
    max_archive_bytes: int = Field(
        512 * 1024**2,
        ge=1,
        description="largest zip upload, and the most it may expand to (nginx: 512m per request)",
    )
    max_form_fields: int = Field(
        16, ge=1, description="most text fields (caption, tags, source) in one upload request"
    )
    max_form_field_bytes: int = Field(
        64 * 1024, ge=1, description="one text field of an upload request"
    )
    max_form_bytes: int = Field(
        256 * 1024, ge=1, description="all text fields of an upload request together"
    )
    task_batch_size: int = Field(16, ge=1, le=256, description="images per indexing task")
    max_queue: int = Field(10_000, ge=1, description="tasks waiting before uploads get 503")


class LibrarySettings(BaseModel):
    image_url_prefix: str = Field("/images", description="where cdnapi serves images (via nginx)")
    stats_cache_s: float = Field(
        30.0, ge=0, description="how long one computation of /stats (which sums every size) serves"
    )


class JobEventSettings(BaseModel):
    poll_s: float = Field(0.5, gt=0, description="how often a watched job is read from Redis")
    max_per_client: int = Field(8, ge=1, description="open event streams of one client")
    max_streams: int = Field(256, ge=1, description="open event streams of one ingestapi process")
    max_lifetime_s: float = Field(
        300.0, gt=0, description="a stream ends after this long, telling the client to reconnect"
    )
    reconnect_ms: int = Field(1000, ge=0, description="the reconnect hint (SSE retry) sent")


class IngestApiSettings(ServiceSettings):
    service: ClassVar[str] = "ingestapi"

    log: LogSettings = LogSettings()
    auth: AuthSettings = AuthSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    redis: RedisSettings = RedisSettings()
    storage: StorageSettings
    # read-only: whether an image is indexed, and its metadata
    milvus: MilvusSettings = MilvusSettings()
    ingest: IngestSettings = IngestSettings()
    # URL ingest: only allow_networks matters here (literal addresses are refused at once)
    fetch: FetchSettings = FetchSettings()
    # nginx's image cache, cleared of each deleted image
    cache: ImageCacheSettings = ImageCacheSettings()
    library: LibrarySettings = LibrarySettings()
    events: JobEventSettings = JobEventSettings()
    webhooks: WebhookSettings = WebhookSettings()
