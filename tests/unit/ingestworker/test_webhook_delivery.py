"""One attempt at a delivery, and what becomes of it: delivered, signed with the hook's
secret; retried after doubling waits; given up a day after its event; dropped when its hook
is gone; held while its hook is paused; and a hook that keeps failing is paused with why."""

import subprocess
import sys
from datetime import UTC, datetime

from ingestworker.adapters.webhook_sender import SendResult
from ingestworker.service.webhook_delivery import WebhookDelivery
from shared.webhooks.deliveries import Delivery, Status
from shared.webhooks.settings import WebhookSettings
from shared.webhooks.signature import SIGNATURE_HEADER, verify
from shared.webhooks.webhook import Webhook

HOOK = "h" * 32
NOW = datetime(2026, 12, 7, tzinfo=UTC)
SETTINGS = WebhookSettings(
    first_retry_s=10, max_backoff_s=100, give_up_after_s=1000, pause_after_failures=3,
    paused_recheck_s=30,
)  # fmt: skip


def hook(**changes: object) -> Webhook:
    fields: dict[str, object] = {
        "id": HOOK, "url": "https://hooks.example.com/in", "secret": "whsec_" + "s" * 30,
        "events": ["image.indexed"], "created_at": NOW, "updated_at": NOW, **changes,
    }  # fmt: skip
    return Webhook.model_validate(fields)


def delivery(first_at: float = 0.0, attempts: int = 0) -> Delivery:
    return Delivery(
        id="d1", hook_id=HOOK, event_id="evt_1", event_type="image.indexed",
        body='{"id":"evt_1"}', first_at=first_at, attempts=attempts,
    )  # fmt: skip


class Queue:
    def __init__(self) -> None:
        self.settled: list[tuple[str, Status, Delivery]] = []
        self.retried: list[tuple[float, Delivery]] = []
        self.in_a_row = 0

    def settle(self, d: Delivery, status: Status) -> None:
        self.settled.append((d.id, status, d))

    def retry(self, d: Delivery, due: float) -> None:
        self.retried.append((due, d))

    def failed_attempt(self, hook_id: str) -> int:
        self.in_a_row += 1
        return self.in_a_row

    def succeeded(self, hook_id: str) -> None:
        self.in_a_row = 0


class Hooks:
    def __init__(self, *hooks: Webhook) -> None:
        self.by_id = {h.id: h for h in hooks}

    def hooks(self) -> dict[str, Webhook]:
        return self.by_id


class Store:
    def __init__(self) -> None:
        self.paused: list[tuple[str, str]] = []

    def pause(self, hook_id: str, reason: str) -> None:
        self.paused.append((hook_id, reason))


class Sender:
    def __init__(self, *results: SendResult) -> None:
        self.results = list(results)
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        self.calls.append((url, body, headers))
        return self.results.pop(0)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def service(
    queue: Queue, hooks: Hooks, sender: Sender, clock: Clock, store: Store | None = None
) -> WebhookDelivery:
    return WebhookDelivery(queue, hooks, store or Store(), sender, SETTINGS, clock)  # type: ignore[arg-type]


def test_a_delivery_is_signed_with_the_hooks_secret_and_settled_when_answered_2xx() -> None:
    queue, sender = Queue(), Sender(SendResult(ok=True, http_status=204))
    service(queue, Hooks(hook()), sender, Clock(5.0)).deliver(delivery())
    url, body, headers = sender.calls[0]
    assert url == "https://hooks.example.com/in" and body == b'{"id":"evt_1"}'
    assert verify(hook().secret, headers[SIGNATURE_HEADER], body, now=5.0)
    assert headers["X-ImageSearch-Event-Id"] == "evt_1"
    [(_, status, settled)] = queue.settled
    assert status == "delivered" and settled.attempts == 1 and settled.http_status == 204


def test_failed_attempts_wait_longer_each_time_up_to_the_cap() -> None:
    queue, clock = Queue(), Clock(0.0)
    failing = Sender(*[SendResult(False, 500, "HTTP 500")] * 6)
    deliver = service(queue, Hooks(hook()), failing, clock, Store())
    d = delivery()
    waits = []
    for _ in range(6):
        queue.in_a_row = 0  # not paused meanwhile
        deliver.deliver(d)
        due, d = queue.retried[-1]
        waits.append(due - clock.now)
        clock.now = due
    for wait, base in zip(waits, [10, 20, 40, 80, 100, 100], strict=True):
        assert base <= wait <= base * 1.1  # doubling, capped, with up to 10 % jitter
    assert d.attempts == 6 and d.last_error == "HTTP 500" and d.http_status == 500


def test_a_delivery_still_failing_a_day_after_its_event_is_given_up() -> None:
    queue = Queue()
    late = delivery(first_at=0.0, attempts=8)
    service(
        queue, Hooks(hook()), Sender(SendResult(False, None, "no answer")), Clock(950.0)
    ).deliver(late)
    [(_, status, settled)] = queue.settled
    assert status == "failed" and settled.last_error == "no answer" and not queue.retried


def test_a_delivery_whose_hook_is_gone_is_dropped_without_a_request() -> None:
    queue, sender = Queue(), Sender()
    service(queue, Hooks(), sender, Clock(1.0)).deliver(delivery())
    assert queue.settled[0][1] == "dropped" and sender.calls == []


def test_a_paused_hooks_deliveries_wait_without_attempts_until_they_expire() -> None:
    queue, sender = Queue(), Sender()
    paused = Hooks(hook(paused=True, paused_reason="paused by hand"))
    service(queue, paused, sender, Clock(100.0)).deliver(delivery())
    assert sender.calls == [] and queue.retried[0][0] == 130.0
    assert queue.retried[0][1].attempts == 0
    service(queue, paused, sender, Clock(1000.0)).deliver(delivery())
    assert queue.settled[0][1] == "failed" and "paused by hand" in queue.settled[0][2].last_error


def test_a_hook_whose_attempts_fail_again_and_again_is_paused_with_the_last_error() -> None:
    queue, store = Queue(), Store()
    sender = Sender(*[SendResult(False, None, "could not connect: ConnectError")] * 3)
    deliver = service(queue, Hooks(hook()), sender, Clock(1.0), store)
    for _ in range(2):
        deliver.deliver(delivery())
    assert store.paused == []
    deliver.deliver(delivery())
    [(hook_id, reason)] = store.paused
    assert hook_id == HOOK and "3 attempts in a row" in reason and "ConnectError" in reason


def test_a_success_starts_the_count_of_failures_again() -> None:
    queue, store = Queue(), Store()
    results = (
        [SendResult(False, 500, "HTTP 500")] * 2
        + [SendResult(True, 200)]
        + [SendResult(False, 500, "HTTP 500")] * 2
    )
    deliver = service(queue, Hooks(hook()), Sender(*results), Clock(1.0), store)
    for _ in range(5):
        deliver.deliver(delivery())
    assert store.paused == [] and queue.in_a_row == 2


def test_the_deliverer_process_imports_no_model_decoder_or_enrichment() -> None:
    """Its own composition root: the worker's would load torch and the enrichers (191 MB
    resident before it sent anything)."""
    heavy = ("torch", "cv2", "sentence_transformers", "openvino", "ingestworker.enrichers")
    code = (
        "import sys, ingestworker.cli.deliver_webhooks\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
