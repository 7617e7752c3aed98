"""The deliverer's loop: due deliveries claimed as threads come free, at most
webhooks.concurrency in flight, so a slow receiver holds threads, never memory; when nothing
is due it sleeps until an event is queued (or webhooks.poll_s passes)."""

import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ingestworker.service.webhook_delivery import WebhookDelivery
from shared.errors import Unavailable
from shared.log import get_logger
from shared.webhooks.deliveries import Delivery, DeliveryQueue
from shared.webhooks.settings import WebhookSettings

log = get_logger(__name__)
# a deliverer says it is alive this often, and is taken for dead after HEARTBEAT_TTL_S
HEARTBEAT_S = 5.0
HEARTBEAT_TTL_S = 30


class WebhookDeliverer:
    def __init__(
        self, delivery: WebhookDelivery, queue: DeliveryQueue, settings: WebhookSettings
    ) -> None:
        self._delivery = delivery
        self._queue = queue
        self._settings = settings
        self.name = socket.gethostname()

    def alive(self) -> bool:
        """Whether this host's deliverer looped lately (`deliver-webhooks --check`)."""
        return self._queue.alive(self.name)

    def run(self, stop: threading.Event) -> None:
        slots, poll_s = self._settings.concurrency, self._settings.poll_s
        in_flight: set[Future[None]] = set()
        with ThreadPoolExecutor(slots, thread_name_prefix="deliver") as pool:
            log.info("webhook_deliverer_ready", concurrency=slots)
            beaten = float("-inf")
            while not stop.is_set():
                if time.monotonic() - beaten >= HEARTBEAT_S:
                    try:
                        self._queue.beat(self.name, HEARTBEAT_TTL_S)
                        beaten = time.monotonic()
                    except Unavailable:
                        pass  # said below, at the claim
                in_flight = {f for f in in_flight if not f.done()}
                free = slots - len(in_flight)
                try:
                    claimed = self._delivery.claim(free) if free else []
                except Unavailable as exc:
                    log.warning("webhook_deliveries_unreachable", reason=exc.detail)
                    stop.wait(poll_s)
                    continue
                in_flight |= {pool.submit(self._one, d) for d in claimed}
                if free and len(claimed) == free:
                    continue  # more may be due
                if len(in_flight) >= slots:
                    wait(in_flight, timeout=poll_s, return_when=FIRST_COMPLETED)
                    continue
                try:
                    self._queue.wait(poll_s)  # nothing due: until an event is queued
                except Unavailable:
                    stop.wait(poll_s)
            log.info("webhook_deliverer_stopping", in_flight=len(in_flight))

    def _one(self, delivery: Delivery) -> None:
        try:
            self._delivery.deliver(delivery)
        except Exception as exc:
            log.warning("webhook_delivery_error", delivery_id=delivery.id, error=repr(exc)[:200])
