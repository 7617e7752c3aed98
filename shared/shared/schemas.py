"""Payloads that cross a service boundary: API bodies and the job state kept in Redis."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class ImageState(StrEnum):
    queued = "queued"
    processing = "processing"
    indexed = "indexed"
    failed = "failed"


class UploadStatus(StrEnum):
    accepted = "accepted"
    duplicate = "duplicate"
    rejected = "rejected"


class UploadResult(BaseModel):
    id: str | None = Field(None, description="content id (sha256); absent when rejected")
    filename: str
    status: UploadStatus
    job_id: str | None = None
    reason: str | None = None
    http_status: int = Field(description="the status this file alone would have had")


class UploadResponse(BaseModel):
    job_id: str | None
    items: list[UploadResult]


class JobItem(BaseModel):
    id: str
    filename: str
    state: ImageState
    reason: str | None = None


class JobStatus(BaseModel):
    job_id: str
    state: ImageState = Field(
        description=(
            "queued until one starts, processing while any is pending, "
            "then failed if any failed, else indexed"
        )
    )
    counts: dict[ImageState, int]
    items: list[JobItem]


class ImageStatus(BaseModel):
    id: str
    state: Literal["stored", "queued", "processing", "indexed", "failed"] = Field(
        description="stored: accepted and durable, not indexed yet (reconcile queues it)"
    )
    reason: str | None = None
    metadata: dict[str, object] | None = Field(None, description="once indexed")


class SearchItem(BaseModel):
    id: str
    score: float
    url: str
    filename: str | None = None
    content_type: str | None = None
    width: int | None = None
    height: int | None = None


class SearchResponse(BaseModel):
    items: list[SearchItem]
    took_ms: float
