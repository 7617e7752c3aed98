from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field, field_validator, model_validator

from ingestworker.enrichers.tags import TagSettings
from ingestworker.enrichers.text_reader import OcrSettings
from shared.config import (
    DerivedSettings,
    EmbeddingSettings,
    LogSettings,
    MilvusSettings,
    RedisSettings,
    ServiceSettings,
    StorageSettings,
)
from shared.netguard import FetchSettings
from shared.queue import VISIBILITY_TIMEOUT_S
from shared.webhooks.settings import WebhookSettings


class ReconcileSettings(BaseModel):
    # 0 turns the periodic task off; `uv run reconcile` still works
    interval_s: float = Field(3600.0, ge=0, description="seconds between reconcile runs (beat)")
    stale_after_s: float = Field(
        VISIBILITY_TIMEOUT_S + 600, gt=0, description="queued this long without progress: lost"
    )
    task_batch_size: int = Field(16, ge=1, le=256, description="images per re-queued task")


class UrlIngestSettings(BaseModel):
    task_batch_size: int = Field(
        16, ge=1, le=256, description="downloaded images per indexing task it queues"
    )


class WorkerMetricsSettings(BaseModel):
    port: int = Field(0, ge=0, le=65535, description="Prometheus metrics; 0: not served")
    # the user's state folder (XDG), outside the model cache that several workers may share
    dir: Path = Field(
        Path("~/.local/state/imagesearch/worker-metrics"),
        description="where the worker's processes keep their metric files (one worker per "
        "folder; emptied at start)",
    )

    @field_validator("dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()


class TaskSettings(BaseModel):
    """Retries of a task whose storage, Redis or Milvus did not answer: waits double up to
    max_backoff_s; past max_retries its images show as waiting and it goes on retrying."""

    max_retries: int = Field(5, ge=0, le=20)
    max_crashes: int = Field(
        2, ge=1, le=10, description="deliveries a batch may kill its worker before it is split"
    )
    max_backoff_s: float = Field(60.0, gt=0, description="waits double from 1 s up to this")


class WorkerProcessSettings(BaseModel):
    concurrency: int = Field(
        1,
        ge=1,
        le=64,
        description="prefork children, each holding its own model (memory grows with each); "
        "one child of every core suits OpenVINO, the default runtime",
    )


class BatchingSettings(BaseModel):
    """Indexing tasks are gathered across uploads into forward passes of embedding.batch_size
    images, and their images prepared by threads ahead of the model."""

    max_wait_s: float = Field(
        0.2, gt=0, le=10, description="longest a task waits for others while a child is free"
    )
    max_tasks: int = Field(64, ge=1, le=4096, description="tasks waiting that flush at once")
    prefetch_per_child: int = Field(
        64, ge=1, le=4096, description="unacknowledged tasks a worker holds, per child"
    )
    prepare_threads: int = Field(
        2, ge=1, le=64, description="threads fetching, decoding and deriving ahead of the model"
    )


HASH_BITS = 64  # perceptual hashes (stages.near_duplicates)


class DuplicateSettings(BaseModel):
    candidate_hash_bits: int = Field(
        28, ge=0, le=HASH_BITS, description="same picture: hash bits a candidate may differ by"
    )
    candidate_min_cosine: float = Field(0.5, ge=-1, le=1, description="same picture candidates")
    min_matches: int = Field(20, ge=4, description="same picture: keypoints the match explains")
    max_margin: float = Field(
        0.10, ge=0, le=1, description="same picture: widest strip either may have beyond the other"
    )
    verify_at_most: int = Field(4, ge=1, le=64, description="candidates matched per new image")
    shot_min_cosine: float = Field(0.75, ge=-1, le=1)
    shot_window_s: int = Field(300, ge=0, description="dates taken at most this far apart")
    neighbours: int = Field(16, ge=1, le=256, description="nearest images looked at for each")

    @property
    def search_min_cosine(self) -> float:
        return min(self.candidate_min_cosine, self.shot_min_cosine)


class EnrichmentSettings(BaseModel):
    """Enrichment (place, text in the picture, tags) runs after indexing, on its own queue."""

    enabled: bool = Field(True, description="queue indexed images for enrichment")
    max_town_km: float = Field(
        50.0, gt=0, le=500, description="a place is named after a town at most this far"
    )
    ocr: OcrSettings = OcrSettings()
    tags: TagSettings = TagSettings()


class SavedSearchSettings(BaseModel):
    refresh_s: float = Field(
        0.0,
        ge=0,
        le=3600,
        description="how often a worker looks whether saved searches changed (one small read; "
        "0: before every batch, so a search saved before an upload matches it)",
    )


class IngestWorkerSettings(ServiceSettings):
    service: ClassVar[str] = "ingestworker"

    log: LogSettings = LogSettings()
    redis: RedisSettings = RedisSettings()
    storage: StorageSettings
    milvus: MilvusSettings = MilvusSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    reconcile: ReconcileSettings = ReconcileSettings()
    derived: DerivedSettings = DerivedSettings()
    tasks: TaskSettings = TaskSettings()
    metrics: WorkerMetricsSettings = WorkerMetricsSettings()
    fetch: FetchSettings = FetchSettings()
    url_ingest: UrlIngestSettings = UrlIngestSettings()
    batching: BatchingSettings = BatchingSettings()
    worker: WorkerProcessSettings = WorkerProcessSettings()
    # how new images are filed as copies (same picture) or bursts (similar shot) of others
    duplicates: DuplicateSettings = DuplicateSettings()
    enrichment: EnrichmentSettings = EnrichmentSettings()
    saved_searches: SavedSearchSettings = SavedSearchSettings()
    # events queued by the index stages and enrichment; sent by `deliver-webhooks`
    webhooks: WebhookSettings = WebhookSettings()

    @model_validator(mode="after")
    def _retry_waits_within_the_visibility_timeout(self) -> "IngestWorkerSettings":
        # a task waiting out an outage is held, unacknowledged, for up to its wait: past the
        # visibility timeout the broker would hand out a second copy of it
        if self.tasks.max_backoff_s >= self.redis.visibility_timeout_s:
            raise ValueError(
                f"tasks.max_backoff_s ({self.tasks.max_backoff_s:g}) must be below "
                f"redis.visibility_timeout_s ({self.redis.visibility_timeout_s})"
            )
        return self


class ModelSettings(IngestWorkerSettings):
    """The worker's settings as a command that only runs the model reads them (calibrate-tags):
    the same file and overrides, storage not needed."""

    storage: dict[str, Any] | None = None  # type: ignore[assignment]
