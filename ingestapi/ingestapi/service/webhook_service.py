"""Webhooks: made, listed, changed (paused, resumed) and deleted here; kept in object storage
(shared.webhooks.hook_store), their deliveries and logs in Redis (shared.webhooks.deliveries).
A URL is checked as URL ingest checks one (shared.netguard) when the hook is made, and again
by the deliverer at every attempt (a name may come to resolve elsewhere)."""

import uuid
from datetime import UTC, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.errors import Conflict, NotFound, Unprocessable
from shared.log import get_logger
from shared.netguard import MAX_URL_CHARS, Refused, checked_target
from shared.saved_searches.store import SavedSearchStore
from shared.webhooks.deliveries import Delivery, DeliveryQueue
from shared.webhooks.hook_store import WebhookStore
from shared.webhooks.settings import WebhookSettings
from shared.webhooks.signature import new_secret
from shared.webhooks.webhook import ALBUM_EVENTS, LIBRARY_EVENTS, EventType, Webhook

log = get_logger(__name__)
ID_CHARS = frozenset("0123456789abcdef")
MAX_LOG = 100


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=MAX_URL_CHARS)
    saved_search_id: str | None = Field(
        None, description="the album whose joins it hears; left out: the library's events"
    )
    events: list[EventType] | None = Field(
        None,
        min_length=1,
        description="left out: album.joined for a saved search's hook; image.indexed, "
        "image.failed and image.deleted for the library's",
    )
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=200,
        description="what deliveries are signed with; left out: one is made (shown once)",
    )

    @model_validator(mode="after")
    def _events_fit(self) -> Self:
        other = sorted(set(self.events or ()) - set(ALBUM_EVENTS))
        if self.saved_search_id is not None and other:
            raise ValueError(f"a saved search's hook hears album.joined only, not {other}")
        return self


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=1, max_length=MAX_URL_CHARS)
    events: list[EventType] | None = Field(None, min_length=1)
    paused: bool | None = Field(
        None, description="false resumes a paused hook (its waiting deliveries go out again)"
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    saved_search_id: str | None
    events: list[EventType]
    paused: bool
    paused_reason: str = Field(description="why it was paused (by hand, or what kept failing)")
    pending: int = Field(description="deliveries waiting")
    failures_in_a_row: int
    created_at: datetime
    updated_at: datetime
    deliveries: str = Field(description="its delivery log")

    @classmethod
    def of(cls, hook: Webhook, pending: int, failures: int) -> "WebhookOut":
        return cls(
            **hook.model_dump(exclude={"secret"}),
            pending=pending,
            failures_in_a_row=failures,
            deliveries=f"/api/v1/webhooks/{hook.id}/deliveries",
        )


class WebhookCreated(WebhookOut):
    secret: str = Field(description="verify deliveries with it; shown only now")


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    status: str = Field(description="pending, delivered, failed (gave up) or dropped")
    attempts: int
    first_at: datetime
    last_at: datetime | None
    next_at: datetime | None = Field(description="when it is tried again (pending)")
    last_error: str
    http_status: int | None

    @classmethod
    def of(cls, delivery: Delivery) -> "DeliveryOut":
        def at(t: float | None) -> datetime | None:
            return None if t is None else datetime.fromtimestamp(t, UTC)

        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=delivery.status,
            attempts=delivery.attempts,
            first_at=datetime.fromtimestamp(delivery.first_at, UTC),
            last_at=at(delivery.last_at),
            next_at=at(delivery.next_at),
            last_error=delivery.last_error,
            http_status=delivery.http_status,
        )


class WebhookService:
    def __init__(
        self,
        hooks: WebhookStore,
        searches: SavedSearchStore,
        deliveries: DeliveryQueue,
        settings: WebhookSettings,
    ) -> None:
        self._hooks = hooks
        self._searches = searches
        self._deliveries = deliveries
        self._settings = settings

    def create(self, body: WebhookIn) -> WebhookCreated:
        if self._hooks.count() >= self._settings.max_hooks:
            raise Conflict(f"there are {self._settings.max_hooks} webhooks (webhooks.max_hooks)")
        self._check_url(body.url)
        if body.saved_search_id is not None:
            try:
                self._searches.get(body.saved_search_id)
            except NotFound:
                raise Unprocessable(f"no saved search {body.saved_search_id[:64]!r}") from None
        default = ALBUM_EVENTS if body.saved_search_id is not None else LIBRARY_EVENTS
        now = datetime.now(UTC)
        hook = Webhook(
            id=uuid.uuid4().hex,
            url=body.url,
            secret=body.secret or new_secret(),
            events=list(dict.fromkeys(body.events or default)),
            saved_search_id=body.saved_search_id,
            created_at=now,
            updated_at=now,
        )
        self._hooks.put(hook)
        self._hooks.mark_changed()
        log.info("webhook_created", hook_id=hook.id, saved_search_id=hook.saved_search_id)
        return WebhookCreated(**self._out(hook).model_dump(), secret=hook.secret)

    def all(self) -> list[WebhookOut]:
        hooks = sorted(self._hooks.all(), key=lambda h: h.created_at)
        return [self._out(hook) for hook in hooks]

    def get(self, hook_id: str) -> WebhookOut:
        return self._out(self._hook(hook_id))

    def update(self, hook_id: str, patch: WebhookPatch) -> WebhookOut:
        hook = self._hook(hook_id)
        changes: dict[str, object] = {"updated_at": datetime.now(UTC)}
        if patch.url is not None:
            self._check_url(patch.url)
            changes["url"] = patch.url
        if patch.events is not None:
            if hook.saved_search_id is not None and set(patch.events) - set(ALBUM_EVENTS):
                raise Unprocessable("a saved search's hook hears album.joined only")
            changes["events"] = list(dict.fromkeys(patch.events))
        if patch.paused is False:
            changes.update(paused=False, paused_reason="")
            self._deliveries.succeeded(hook.id)  # its count of failures starts again
        elif patch.paused:
            changes.update(paused=True, paused_reason="paused by hand")
        updated = hook.model_copy(update=changes)
        self._hooks.put(updated)
        self._hooks.mark_changed()
        return self._out(updated)

    def delete(self, hook_id: str) -> None:
        """Gone, with its log; its waiting deliveries are dropped when they come due."""
        hook = self._hook(hook_id)
        self._hooks.delete(hook.id)
        self._hooks.mark_changed()
        self._deliveries.forget(hook.id)

    def deliveries(self, hook_id: str, limit: int) -> list[DeliveryOut]:
        hook = self._hook(hook_id)
        return [DeliveryOut.of(d) for d in self._deliveries.log(hook.id, min(limit, MAX_LOG))]

    def _hook(self, hook_id: str) -> Webhook:
        if len(hook_id) != 32 or not set(hook_id) <= ID_CHARS:
            raise NotFound("no such webhook")
        try:
            return self._hooks.get(hook_id)
        except NotFound:
            raise NotFound("no such webhook") from None

    def _out(self, hook: Webhook) -> WebhookOut:
        pending = self._deliveries.pending([hook.id])[hook.id]
        return WebhookOut.of(hook, pending, self._deliveries.failures_in_a_row(hook.id))

    def _check_url(self, url: str) -> None:
        """Refused now if it cannot be called (its scheme, or an address the guard forbids);
        a name that does not resolve yet is kept (the deliveries log says so)."""
        try:
            checked_target(url, self._settings.allow_networks)
        except Refused as exc:
            if not exc.reason.startswith("cannot resolve"):
                raise Unprocessable(f"the URL cannot be called: {exc.reason}") from None
