"""Webhooks in object storage, one JSON object each under ``webhooks/``: durable beside the
saved searches they belong to, and read by every process that publishes events."""

from datetime import UTC, datetime

from shared.errors import NotFound
from shared.log import get_logger
from shared.storage import ObjectStore
from shared.storage.json_objects import JsonObjects, ReloadOnChange
from shared.webhooks.webhook import Webhook

log = get_logger(__name__)
PREFIX = "webhooks/"
CHANGED_KEY = "webhooks.changed"


class WebhookStore(JsonObjects[Webhook]):
    def __init__(self, store: ObjectStore) -> None:
        super().__init__(store, PREFIX, CHANGED_KEY, Webhook)

    def pause(self, hook_id: str, reason: str) -> None:
        """Paused with its reason (a hook deleted meanwhile stays deleted)."""
        try:
            hook = self.get(hook_id)
        except NotFound:
            return
        if hook.paused:
            return
        now = datetime.now(UTC)
        self.put(
            hook.model_copy(update={"paused": True, "paused_reason": reason, "updated_at": now})
        )
        self.mark_changed()
        log.warning("webhook_paused", hook_id=hook_id, reason=reason)


class HookSource:
    """The hooks as they are now, read again when they change (one small read of the marker,
    no more often than ``refresh_s``)."""

    def __init__(self, store: WebhookStore, refresh_s: float) -> None:
        empty: dict[str, Webhook] = {}
        self._current = ReloadOnChange(store.version, lambda: _by_id(store), empty, refresh_s)

    def hooks(self) -> dict[str, Webhook]:
        return self._current.get()


def _by_id(store: WebhookStore) -> dict[str, Webhook]:
    return {hook.id: hook for hook in store.all()}
