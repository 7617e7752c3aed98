"""Webhook deliveries in a real Redis: due ones are claimed under a lease (a deliverer that
dies mid-send leaves them to be sent again), two deliverers never take the same one, retries
wait until due, settled ones leave the queue and stay in the hook's capped log a while."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis

from imagesearch_dev.localstack import Stack
from shared.webhooks import events
from shared.webhooks.deliveries import DUE, DeliveryQueue
from shared.webhooks.webhook import Webhook
from tests.support.stack import redis_settings

NOW = datetime(2026, 12, 7, tzinfo=UTC)
# a database of its own: the stack's deliverer (on database 0) never takes these
DB = 7


@pytest.fixture
def client(infra: Stack) -> "redis.Redis[bytes]":
    url = redis_settings(infra).model_copy(update={"db": DB}).url
    found: redis.Redis[bytes] = redis.Redis.from_url(url)
    found.flushdb()
    return found


@pytest.fixture
def queue(infra: Stack, client: "redis.Redis[bytes]") -> Iterator[DeliveryQueue]:
    url = redis_settings(infra).model_copy(update={"db": DB}).url
    deliveries = DeliveryQueue.from_url(url, log_size=5, log_keep_s=600)
    yield deliveries
    deliveries.close()


def hook(hook_id: str = "h" * 32) -> Webhook:
    return Webhook.model_validate(
        {"id": hook_id, "url": "https://example.com/", "secret": "s" * 20,
         "events": ["image.indexed"], "created_at": NOW, "updated_at": NOW}
    )  # fmt: skip


def enqueue(
    queue: DeliveryQueue, n: int, now: float = 100.0, who: Webhook | None = None
) -> list[str]:
    pairs = [(who or hook(), events.image_indexed(f"i{k}", "a.jpg", k, [])) for k in range(n)]
    return [d.id for d in queue.enqueue(pairs, now)]


def test_a_claimed_delivery_is_leased_and_due_again_when_its_lease_runs_out(
    queue: DeliveryQueue,
) -> None:
    ids = enqueue(queue, 3)
    assert queue.pending([hook().id]) == {hook().id: 3}
    claimed = queue.claim(now=100.0, lease_s=40, limit=10)
    assert sorted(d.id for d in claimed) == sorted(ids)
    assert claimed[0].body and claimed[0].status == "pending"
    assert queue.claim(now=139.0, lease_s=40, limit=10) == []  # leased
    again = queue.claim(now=140.0, lease_s=40, limit=10)  # its deliverer died: sent again
    assert sorted(d.id for d in again) == sorted(ids)


def test_two_deliverers_never_take_the_same_delivery(queue: DeliveryQueue) -> None:
    ids = enqueue(queue, 300)
    taken: list[str] = []
    lock = threading.Lock()

    def deliverer() -> None:
        while batch := queue.claim(now=100.0, lease_s=60, limit=7):
            with lock:
                taken.extend(d.id for d in batch)

    threads = [threading.Thread(target=deliverer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == len(set(taken)) == 300 and set(taken) == set(ids)


def test_a_retry_waits_until_due_and_keeps_what_happened(queue: DeliveryQueue) -> None:
    enqueue(queue, 1)
    [delivery] = queue.claim(now=100.0, lease_s=40, limit=10)
    delivery.attempts, delivery.last_error, delivery.http_status = 1, "HTTP 500", 500
    queue.retry(delivery, due=110.0)
    assert queue.claim(now=109.0, lease_s=40, limit=10) == []
    [again] = queue.claim(now=110.0, lease_s=40, limit=10)
    assert (again.attempts, again.last_error, again.http_status) == (1, "HTTP 500", 500)


def test_settled_deliveries_leave_the_queue_and_stay_in_the_capped_log(
    queue: DeliveryQueue, client: "redis.Redis[bytes]"
) -> None:
    ids = enqueue(queue, 8)
    for delivery in queue.claim(now=100.0, lease_s=40, limit=10):
        delivery.attempts = 1
        queue.settle(delivery, "delivered")
    assert queue.pending([hook().id]) == {hook().id: 0}
    assert queue.claim(now=1000.0, lease_s=40, limit=10) == []
    logged = queue.log(hook().id, limit=50)
    assert len(logged) == 5  # log_size
    assert {d.id for d in logged} <= set(ids) and {d.status for d in logged} == {"delivered"}
    assert 0 < client.ttl(f"webhooks:delivery:{logged[0].id}") <= 600


def test_forgetting_a_hook_clears_its_log_and_counters_and_a_lost_record_is_let_go(
    queue: DeliveryQueue, client: "redis.Redis[bytes]"
) -> None:
    gone, kept = hook("g" * 32), hook("k" * 32)
    enqueue(queue, 2, who=gone)
    enqueue(queue, 1, who=kept)
    queue.failed_attempt(gone.id)
    queue.forget(gone.id)
    assert queue.log(gone.id, 10) == [] and queue.failures_in_a_row(gone.id) == 0
    assert queue.pending([gone.id, kept.id]) == {gone.id: 0, kept.id: 1}
    lost = queue.log(kept.id, 10)[0].id
    client.delete(f"webhooks:delivery:{lost}")
    assert {d.hook_id for d in queue.claim(now=100.0, lease_s=40, limit=10)} == {gone.id}
    assert client.zscore(DUE, lost) is None
