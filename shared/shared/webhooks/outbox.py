"""Publishing events: each goes to the deliveries of every hook that hears it; nothing is
written when no hook does. A hook with ``max_pending`` deliveries waiting is paused instead
(its receiver is far behind): what one hook's backlog costs stays bounded."""

import time
from collections.abc import Callable, Sequence

from shared.log import get_logger
from shared.webhooks.deliveries import DeliveryQueue
from shared.webhooks.hook_store import HookSource, WebhookStore
from shared.webhooks.webhook import Event

log = get_logger(__name__)


class WebhookOutbox:
    def __init__(
        self,
        hooks: HookSource,
        store: WebhookStore,
        queue: DeliveryQueue,
        max_pending: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._hooks = hooks
        self._store = store
        self._queue = queue
        self._max_pending = max_pending
        self._clock = clock

    def publish(self, events: Sequence[Event]) -> int:
        """Queue each event for the hooks that hear it: how many deliveries were queued.
        An outage of Redis or storage raises Unavailable (the caller's task retries; the
        events' ids stay the same)."""
        if not events:
            return 0
        hooks = [h for h in self._hooks.hooks().values() if not h.paused]
        pairs = [(hook, event) for event in events for hook in hooks if hook.hears(event)]
        if not pairs:
            return 0
        waiting = self._queue.pending(sorted({hook.id for hook, _ in pairs}))
        adding: dict[str, int] = {}
        for hook, _ in pairs:
            adding[hook.id] = adding.get(hook.id, 0) + 1
        full = {h for h, n in adding.items() if waiting.get(h, 0) + n > self._max_pending}
        for hook_id in sorted(full):
            self._store.pause(
                hook_id,
                f"{waiting.get(hook_id, 0)} deliveries are waiting (webhooks.max_pending "
                f"{self._max_pending}): its receiver is far behind",
            )
        queued = self._queue.enqueue([(h, e) for h, e in pairs if h.id not in full], self._clock())
        if queued:
            log.info("webhook_events_queued", deliveries=len(queued), events=len(events))
        return len(queued)
