"""Events go to the hooks that hear them: a saved search's hook its album's joins, the
library's the events it chose; a paused hook nothing. A hook whose receiver is far behind
(webhooks.max_pending waiting) is paused instead of growing its backlog."""

from datetime import UTC, datetime

from shared.storage import ObjectStore
from shared.webhooks import events
from shared.webhooks.hook_store import HookSource, WebhookStore
from shared.webhooks.outbox import WebhookOutbox
from shared.webhooks.webhook import Webhook
from tests.unit.fakes import InMemoryObjectStore, RecordingDeliveries

NOW = datetime(2026, 12, 7, tzinfo=UTC)
ALBUM, OTHER_ALBUM = "a" * 32, "b" * 32


def hook(hook_id: str, events_: list[str], album: str | None = None, **more: object) -> Webhook:
    return Webhook.model_validate(
        {"id": hook_id, "url": "https://example.com/", "secret": "s" * 20, "events": events_,
         "saved_search_id": album, "created_at": NOW, "updated_at": NOW, **more}
    )  # fmt: skip


def outbox(
    store: ObjectStore, deliveries: RecordingDeliveries, max_pending: int = 100
) -> tuple[WebhookOutbox, WebhookStore]:
    hooks = WebhookStore(store)
    return WebhookOutbox(HookSource(hooks, 0), hooks, deliveries, max_pending), hooks  # type: ignore[arg-type]


def test_each_event_goes_to_the_hooks_that_hear_it() -> None:
    deliveries = RecordingDeliveries()
    box, hooks = outbox(InMemoryObjectStore(), deliveries)
    hooks.put(hook("album", ["album.joined"], ALBUM))
    hooks.put(hook("library", ["image.indexed", "image.deleted"]))
    hooks.put(hook("every-album", ["album.joined"]))
    hooks.put(hook("paused", ["image.indexed"], paused=True, paused_reason="by hand"))
    hooks.mark_changed()
    box.publish(
        [
            events.image_indexed("i1", "a.jpg", 1, [ALBUM]),
            events.album_joined(ALBUM, "i1", "a.jpg", 1),
            events.album_joined(OTHER_ALBUM, "i1", "a.jpg", 1),
            events.image_failed("i2", "not an image"),
        ]
    )
    heard = sorted(
        (hook_id, event.type, event.data.get("saved_search_id"))
        for hook_id, event in deliveries.queued
    )
    assert heard == [
        ("album", "album.joined", ALBUM),
        ("every-album", "album.joined", ALBUM),
        ("every-album", "album.joined", OTHER_ALBUM),
        ("library", "image.indexed", None),
    ]


def test_nothing_is_queued_when_no_hook_hears() -> None:
    deliveries = RecordingDeliveries()
    box, _ = outbox(InMemoryObjectStore(), deliveries)
    assert box.publish([events.image_indexed("i1", "a.jpg", 1, [])]) == 0
    assert deliveries.queued == []


def test_a_hook_with_too_many_deliveries_waiting_is_paused_and_given_no_more() -> None:
    deliveries = RecordingDeliveries(waiting={"slow": 99})
    box, hooks = outbox(InMemoryObjectStore(), deliveries, max_pending=100)
    hooks.put(hook("slow", ["image.indexed"]))
    hooks.put(hook("fine", ["image.indexed"]))
    hooks.mark_changed()
    box.publish([events.image_indexed(f"i{n}", "a.jpg", 1, []) for n in range(2)])
    assert {hook_id for hook_id, _ in deliveries.queued} == {"fine"}
    paused = hooks.get("slow")
    assert paused.paused and "99 deliveries are waiting" in paused.paused_reason
    box.publish([events.image_indexed("i9", "a.jpg", 1, [])])  # read again: paused
    assert [h for h, _ in deliveries.queued].count("slow") == 0


def test_the_same_event_found_again_keeps_its_id() -> None:
    first = events.album_joined(ALBUM, "i1", "a.jpg", 5)
    again = events.album_joined(ALBUM, "i1", "a.jpg", 5)
    assert first.id == again.id and first.id.startswith("evt_")
    assert events.album_joined(OTHER_ALBUM, "i1", "a.jpg", 5).id != first.id
    assert events.image_indexed("i1", "a.jpg", 5, []).id != first.id
    assert events.image_deleted("i1").id != events.image_deleted("i1").id  # one per delete
