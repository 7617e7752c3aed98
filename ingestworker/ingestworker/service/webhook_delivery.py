"""Sending due webhook deliveries (shared.webhooks.deliveries), signed, and deciding what
becomes of each: delivered; retried after a wait that doubles from webhooks.first_retry_s up
to max_backoff_s, for up to give_up_after_s after its event; dropped when its hook is gone.
A hook whose attempts fail pause_after_failures times in a row is paused, and says why; the
deliveries of a paused hook wait (without attempts) until it is resumed or they expire."""

import random
import time
from collections.abc import Callable
from typing import Protocol

from ingestworker.adapters.webhook_sender import SendResult
from shared.log import get_logger
from shared.webhooks.deliveries import Delivery, DeliveryQueue
from shared.webhooks.hook_store import HookSource, WebhookStore
from shared.webhooks.settings import WebhookSettings
from shared.webhooks.signature import SIGNATURE_HEADER, sign

log = get_logger(__name__)
# a claimed delivery is the deliverer's for its attempt and this much more, then due again
LEASE_MARGIN_S = 30.0


class Sender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult: ...


class WebhookDelivery:
    def __init__(
        self,
        queue: DeliveryQueue,
        hooks: HookSource,
        store: WebhookStore,
        sender: Sender,
        settings: WebhookSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._queue = queue
        self._hooks = hooks
        self._store = store
        self._sender = sender
        self._settings = settings
        self._clock = clock

    def claim(self, limit: int) -> list[Delivery]:
        lease = self._settings.timeout_s + LEASE_MARGIN_S
        return self._queue.claim(self._clock(), lease, limit)

    def deliver(self, delivery: Delivery) -> None:
        """One attempt at one claimed delivery, and its outcome recorded."""
        hook = self._hooks.hooks().get(delivery.hook_id)
        now = self._clock()
        expired = now - delivery.first_at >= self._settings.give_up_after_s
        if hook is None:
            self._queue.settle(delivery, "dropped")  # its hook (or saved search) was deleted
            return
        if hook.paused:
            if expired:
                delivery.last_error = f"hook paused: {hook.paused_reason}"
                self._queue.settle(delivery, "failed")
            else:
                self._queue.retry(delivery, now + self._settings.paused_recheck_s)
            return
        body = delivery.body.encode()
        headers = {
            SIGNATURE_HEADER: sign(hook.secret, int(now), body),
            "X-ImageSearch-Event": delivery.event_type,
            "X-ImageSearch-Event-Id": delivery.event_id,
            "X-ImageSearch-Delivery": delivery.id,
        }
        result = self._sender.post(hook.url, body, headers)
        delivery.attempts += 1
        delivery.last_at = self._clock()
        delivery.http_status = result.http_status
        if result.ok:
            delivery.last_error = ""
            self._queue.settle(delivery, "delivered")
            self._queue.succeeded(hook.id)
            log.info("webhook_delivered", hook_id=hook.id, event_id=delivery.event_id,
                     attempts=delivery.attempts)  # fmt: skip
            return
        delivery.last_error = result.error
        wait = self.backoff_s(delivery.attempts)
        if delivery.last_at + wait - delivery.first_at > self._settings.give_up_after_s:
            self._queue.settle(delivery, "failed")
        else:
            self._queue.retry(delivery, delivery.last_at + wait)
        log.warning("webhook_attempt_failed", hook_id=hook.id, event_id=delivery.event_id,
                    attempts=delivery.attempts, error=result.error)  # fmt: skip
        in_a_row = self._queue.failed_attempt(hook.id)
        if in_a_row >= self._settings.pause_after_failures:
            self._store.pause(
                hook.id, f"{in_a_row} attempts in a row failed, the last: {result.error}"
            )

    def backoff_s(self, attempts: int) -> float:
        """The wait after the n-th failed attempt: doubling, capped, with up to 10 % jitter
        (a receiver back from an outage is not hit by every delivery at once)."""
        s = self._settings
        wait = min(s.max_backoff_s, s.first_retry_s * 2.0 ** min(attempts - 1, 30))
        return float(wait * (1 + random.random() / 10))
