"""Payloads that cross a service boundary: API bodies and the job state kept in Redis."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, field_validator

from shared.enrichment import STATE_FIELD, EnrichmentState, enrichment_of
from shared.ids import is_content_id

MAX_TAGS = 32
MAX_TAG_CHARS = 64
MAX_CAPTION_CHARS = 2000


class ImageState(StrEnum):
    # the original is durable; the request that stored it has not queued its task yet
    stored = "stored"
    queued = "queued"
    fetching = "fetching"  # URL ingest: the worker is downloading it
    processing = "processing"
    # a storage, Redis or Milvus outage outlasted the task's retries: retried until it answers
    waiting = "waiting"
    indexed = "indexed"
    failed = "failed"
    # removed by its owner: nothing of it is kept, and no task may write it back
    deleted = "deleted"

    @property
    def pending(self) -> bool:
        """Not finished yet: waiting, downloading or being indexed."""
        return self in _PENDING

    @property
    def in_hand(self) -> bool:
        """A task has it, or it is done: the same bytes uploaded again need no new task.
        (A `stored` image is in hand only while the request that stored it is still queueing
        it: see shared.state.in_hand.)"""
        return self in _IN_HAND


_PENDING = frozenset(
    {
        ImageState.stored,
        ImageState.queued,
        ImageState.fetching,
        ImageState.processing,
        ImageState.waiting,
    }
)
_IN_HAND = (_PENDING - {ImageState.stored}) | {ImageState.indexed}


def _split_tags(value: object) -> object:
    """'a, b' and ['a', 'b,c'] both work; blanks and repeats are dropped."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return value
    parts = (p.strip() for v in value for p in str(v).split(","))
    return list(dict.fromkeys(p for p in parts if p))


def _check_tags(tags: list[str]) -> list[str]:
    for tag in tags:
        if len(tag) > MAX_TAG_CHARS or not tag.isprintable():
            raise ValueError(f"a tag is at most {MAX_TAG_CHARS} printable characters")
    return tags


# tags as uploads set them and searches filter by them
Tags = Annotated[
    list[str],
    BeforeValidator(_split_tags),
    Field(max_length=MAX_TAGS),
    AfterValidator(_check_tags),
]


class UploadStatus(StrEnum):
    accepted = "accepted"
    duplicate = "duplicate"
    rejected = "rejected"


class UploadDetails(BaseModel):
    """What the uploader says about the images of one request (all of them)."""

    caption: str = Field("", max_length=MAX_CAPTION_CHARS)
    tags: Tags = Field(default_factory=list)
    source: str = Field("upload", min_length=1, max_length=256)


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


class KnownImagesRequest(BaseModel):
    ids: list[str] = Field(
        max_length=5000, description="sha256 (lowercase hex) of each file's bytes"
    )

    @field_validator("ids")
    @classmethod
    def _content_ids(cls, ids: list[str]) -> list[str]:
        for value in ids:
            if not is_content_id(value):
                raise ValueError(f"not a sha256 in lowercase hex: {value[:80]!r}")
        return ids


class KnownImagesResponse(BaseModel):
    known: list[str] = Field(description="the ids that need no upload")


class JobItem(BaseModel):
    id: str | None = Field(None, description="content id; for a URL, once downloaded")
    url: str | None = Field(None, description="for URL ingest")
    filename: str
    state: ImageState
    reason: str | None = None


class UrlIngestRequest(UploadDetails):
    urls: list[str] = Field(min_length=1, max_length=1000, description="http(s) image URLs")
    source: str = Field("url", min_length=1, max_length=256)


class UrlResult(BaseModel):
    url: str
    status: Literal["queued", "rejected"]
    reason: str | None = None
    http_status: int


class UrlIngestResponse(BaseModel):
    job_id: str | None = Field(description="follow the downloads at /api/v1/jobs/{job_id}")
    items: list[UrlResult]


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

    @classmethod
    def of(cls, job_id: str, items: list[JobItem]) -> "JobStatus":
        """A job's state from its items': queued until one starts, processing while any is
        pending, then failed if any failed, else indexed."""
        counts = {state: 0 for state in ImageState}
        for item in items:
            counts[item.state] += 1
        pending = sum(n for state, n in counts.items() if state.pending)
        if pending and counts[ImageState.queued] + counts[ImageState.stored] == len(items):
            overall = ImageState.queued
        elif pending:
            overall = ImageState.processing
        elif counts[ImageState.failed]:
            overall = ImageState.failed
        else:
            overall = ImageState.indexed
        return cls(job_id=job_id, state=overall, counts=counts, items=items)


class EnrichmentStatus(BaseModel):
    state: EnrichmentState
    reason: str | None = None


class ImageStatus(BaseModel):
    id: str
    state: Literal["stored", "queued", "processing", "waiting", "indexed", "failed"] = Field(
        description=(
            "stored: accepted and durable, not indexed yet (reconcile queues it); waiting: "
            "an outage outlasted the retries, it is taken again once the service answers"
        )
    )
    reason: str | None = None
    metadata: dict[str, object] | None = Field(None, description="once indexed")
    enrichment: dict[str, EnrichmentStatus] | None = Field(
        None,
        description="once indexed: each enrichment's state (place, ...): pending, done, "
        "skipped or failed, with the reason; the image is searchable whatever they say",
    )

    @classmethod
    def indexed(cls, image_id: str, row: dict[str, object]) -> "ImageStatus":
        """An indexed image's status from its row's display fields."""
        metadata = {k: v for k, v in row.items() if k != STATE_FIELD}
        states = {
            name: EnrichmentStatus(state=entry["state"], reason=entry.get("reason") or None)
            for name, entry in enrichment_of(row).items()
        }
        return cls(id=image_id, state="indexed", metadata=metadata, enrichment=states)
