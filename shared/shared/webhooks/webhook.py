"""A webhook as it is stored (object storage, beside the saved searches), and the events it
can be told of. A hook of a saved search hears that album's joins; a hook of the library
hears the library's events (and every album's joins, if it asks)."""

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

EventType = Literal["album.joined", "image.indexed", "image.failed", "image.deleted"]
EVENT_TYPES: tuple[EventType, ...] = (
    "album.joined",
    "image.indexed",
    "image.failed",
    "image.deleted",
)
LIBRARY_EVENTS: tuple[EventType, ...] = ("image.indexed", "image.failed", "image.deleted")
ALBUM_EVENTS: tuple[EventType, ...] = ("album.joined",)


class Webhook(BaseModel):
    id: str
    url: str
    secret: str
    events: list[EventType]
    saved_search_id: str | None = None  # None: the library's
    paused: bool = False
    paused_reason: str = ""
    created_at: datetime
    updated_at: datetime

    def hears(self, event: "Event") -> bool:
        if self.paused or event.type not in self.events:
            return False
        album = event.data.get("saved_search_id")
        return self.saved_search_id is None or album == self.saved_search_id


class Event(BaseModel):
    """The JSON body a receiver gets. ``id`` is the same for every delivery of one event (and
    for the same event found again by a retried batch): receivers deduplicate by it."""

    id: str
    type: EventType
    created_at: datetime
    data: dict[str, Any]


def event_id(event_type: str, *parts: object) -> str:
    """An event's id from what makes it that event: a batch that runs again after a fault
    publishes the same ids, so a receiver that keeps the ids it has processed does no work
    twice."""
    key = "|".join([event_type, *(str(p) for p in parts)])
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:32]
