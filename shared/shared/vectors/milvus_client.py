"""The pymilvus client as every Milvus adapter opens it, and the row fields they read back."""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial

from pymilvus import MilvusClient, MilvusException

from shared.config import MilvusSettings
from shared.enrichment import AUTO_TAGS, GPS_FIELDS, PLACE_FIELDS, REMOVED_AUTO_TAGS, STATE_FIELD
from shared.errors import Unavailable

DISPLAY_FIELDS = [
    "filename",
    "content_type",
    "width",
    "height",
    "bytes",
    "created_at",
    "taken_at",
    "camera",
    "caption",
    "tags",
    "source",
    # how the worker filed it among duplicates: see ingestworker.stages.near_duplicates
    "phash",
    "dup_of",
    "shot_of",
    # enrichment's (dynamic fields, absent until it ran): shared.enrichment; the words read
    # in the picture say why a hit matched (its boxes are a detail: DETAIL_FIELDS)
    *PLACE_FIELDS,
    "text",
    AUTO_TAGS,
    STATE_FIELD,
]
# what one image's details add: the text read with its boxes, the GPS position, the auto-tags
# the user removed
DETAIL_FIELDS = [*DISPLAY_FIELDS, "ocr", *GPS_FIELDS, REMOVED_AUTO_TAGS]
# milvus-lite has no nullable fields: "no EXIF date" is this value, below any real date
UNKNOWN_TIME = -(2**53)

# pymilvus pings every 10 s even when idle; gRPC servers by default allow one ping per 5 min
# without data and then drop the connection ("too many pings"), failing the next call
_GRPC_OPTIONS = {
    "grpc.keepalive_time_ms": 300_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.keepalive_permit_without_calls": 0,
    "grpc.http2.bdp_probe": 0,
}
CONNECT_ATTEMPTS = 4


def open_client(settings: MilvusSettings) -> MilvusClient:
    """Connect, retrying briefly: a channel the server just closed reports that once."""
    connect = partial(
        MilvusClient,
        uri=settings.uri,
        token=settings.token.get_secret_value() if settings.token else "",
        timeout=settings.timeout_s,
        grpc_options=_GRPC_OPTIONS,
    )
    for attempt in range(CONNECT_ATTEMPTS - 1):
        try:
            return connect()
        except MilvusException:
            time.sleep(0.5 * 2**attempt)
    return connect()


def fetch_rows(
    client: MilvusClient,
    collection: str,
    image_ids: Sequence[str],
    fields: Sequence[str] = DISPLAY_FIELDS,
) -> dict[str, dict[str, object]]:
    """Display fields (or ``fields``) of the ids present in a collection."""
    if not image_ids:
        return {}
    with unavailable_on_error():
        rows = client.get(collection, ids=list(image_ids), output_fields=list(fields))
    return {str(row["id"]): display_fields(row, fields) for row in rows}


def display_fields(
    row: dict[str, object], names: Sequence[str] = DISPLAY_FIELDS
) -> dict[str, object]:
    fields = {k: row[k] for k in names if k in row}
    if fields.get("taken_at") == UNKNOWN_TIME:
        fields["taken_at"] = None
    if "tags" in fields:
        fields["tags"] = list(fields["tags"])  # type: ignore[call-overload]
    return fields


@contextmanager
def unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except MilvusException as exc:
        raise Unavailable(f"vector index error: {exc.message}") from exc
