"""The events the pipeline publishes, each with an id made from what makes it that event
(shared.webhooks.webhook.event_id): published again after a fault, it keeps its id."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from shared.webhooks.webhook import Event, event_id


class EventPublisher(Protocol):
    """Where events are published (shared.webhooks.outbox.WebhookOutbox)."""

    def publish(self, events: Sequence[Event]) -> int: ...


def _event(type_: str, id_: str, **data: object) -> Event:
    return Event.model_validate(
        {"id": id_, "type": type_, "created_at": datetime.now(UTC), "data": data}
    )


def image_indexed(image_id: str, filename: str, created_at: int, albums: list[str]) -> Event:
    return _event(
        "image.indexed",
        event_id("image.indexed", image_id, created_at),
        image_id=image_id,
        filename=filename,
        albums=albums,
    )


def album_joined(search_id: str, image_id: str, filename: str, created_at: int) -> Event:
    """An image joined a saved search's album: when indexed, or when its enrichment landed."""
    return _event(
        "album.joined",
        event_id("album.joined", search_id, image_id, created_at),
        saved_search_id=search_id,
        image_id=image_id,
        filename=filename,
    )


def image_failed(image_id: str, reason: str) -> Event:
    return _event(
        "image.failed",
        event_id("image.failed", image_id, reason),
        image_id=image_id,
        reason=reason,
    )


def image_deleted(image_id: str) -> Event:
    # one delete, one event: asked again, the image is gone and nothing is published
    return _event("image.deleted", "evt_" + uuid.uuid4().hex, image_id=image_id)
