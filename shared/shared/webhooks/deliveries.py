"""Webhook deliveries waiting, in flight and done, in Redis: a sorted set of delivery ids by
when each is due, and one record per delivery (its event's body, attempts, last error).

Why not Celery's own retries: a retry a day away would be held, with its body, in a worker's
memory, and the broker hands an unacknowledged task to another worker after its visibility
timeout (an hour), which would deliver it twice. Here a waiting delivery costs one small
record in Redis whatever the wait, and the deliverer holds only those in flight.

A claimed delivery is due again after its lease: a deliverer that dies mid-send leaves it to
be sent again (at least once; receivers deduplicate by the event id)."""

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Literal

import redis

from shared.errors import Unavailable
from shared.webhooks.webhook import Event, Webhook

DUE = "webhooks:due"
WAKE = "webhooks:wake"
Status = Literal["pending", "delivered", "failed", "dropped"]

# take the due ones and push them a lease ahead, in one step (two deliverers never take the same)
_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
"""


def _record_key(delivery_id: str) -> str:
    return f"webhooks:delivery:{delivery_id}"


def _log_key(hook_id: str) -> str:
    return f"webhooks:log:{hook_id}"


def _pending_key(hook_id: str) -> str:
    return f"webhooks:pending:{hook_id}"


def _failures_key(hook_id: str) -> str:
    return f"webhooks:failures:{hook_id}"


@dataclass
class Delivery:
    """One event on its way to one hook, and what became of it so far."""

    id: str
    hook_id: str
    event_id: str
    event_type: str
    body: str
    first_at: float
    status: Status = "pending"
    attempts: int = 0
    last_at: float | None = None
    next_at: float | None = None
    last_error: str = ""
    http_status: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> "Delivery":
        return cls(**json.loads(raw))


class DeliveryQueue:
    def __init__(self, client: "redis.Redis[bytes]", log_size: int, log_keep_s: int) -> None:
        self._redis = client
        self._log_size = log_size
        self._log_keep_s = log_keep_s
        self._claim = client.register_script(_CLAIM)

    @classmethod
    def from_url(cls, url: str, log_size: int, log_keep_s: int) -> "DeliveryQueue":
        client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=3)
        return cls(client, log_size, log_keep_s)

    def close(self) -> None:
        self._redis.close()

    def pending(self, hook_ids: Sequence[str]) -> dict[str, int]:
        """How many deliveries each hook has waiting."""
        if not hook_ids:
            return {}
        with _unavailable_on_error():
            counts = self._redis.mget([_pending_key(h) for h in hook_ids])
        return {h: int(c or 0) for h, c in zip(hook_ids, counts, strict=True)}

    def enqueue(self, pairs: Sequence[tuple[Webhook, Event]], now: float) -> list[Delivery]:
        """One delivery per (hook, event), due now."""
        deliveries = [
            Delivery(
                id=uuid.uuid4().hex,
                hook_id=hook.id,
                event_id=event.id,
                event_type=event.type,
                body=event.model_dump_json(),
                first_at=now,
                next_at=now,
            )
            for hook, event in pairs
        ]
        if not deliveries:
            return []
        with _unavailable_on_error():
            pipe = self._redis.pipeline(transaction=False)
            for delivery in deliveries:
                pipe.set(_record_key(delivery.id), delivery.to_json())
                pipe.incr(_pending_key(delivery.hook_id))
                self._log(pipe, delivery)
            pipe.zadd(DUE, {d.id: now for d in deliveries})
            pipe.lpush(WAKE, 1)
            pipe.ltrim(WAKE, 0, 0)
            pipe.execute()
        return deliveries

    def claim(self, now: float, lease_s: float, limit: int) -> list[Delivery]:
        """Up to ``limit`` due deliveries, each due again ``lease_s`` from now unless settled."""
        with _unavailable_on_error():
            ids = [i.decode() for i in self._claim(keys=[DUE], args=[now, now + lease_s, limit])]
            if not ids:
                return []
            raws = self._redis.mget([_record_key(i) for i in ids])
            lost = [i for i, raw in zip(ids, raws, strict=True) if raw is None]
            if lost:
                self._redis.zrem(DUE, *lost)
        return [Delivery.from_json(raw) for raw in raws if raw is not None]

    def retry(self, delivery: Delivery, due: float) -> None:
        """Attempted and failed (its error recorded on it): due again at ``due``."""
        delivery.status, delivery.next_at = "pending", due
        with _unavailable_on_error():
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(_record_key(delivery.id), delivery.to_json())
            pipe.zadd(DUE, {delivery.id: due})
            pipe.execute()

    def settle(self, delivery: Delivery, status: Status) -> None:
        """Delivered, failed for good or dropped: out of the queue, kept a while for the log."""
        delivery.status, delivery.next_at = status, None
        with _unavailable_on_error():
            pipe = self._redis.pipeline(transaction=True)
            pipe.zrem(DUE, delivery.id)
            pipe.set(_record_key(delivery.id), delivery.to_json(), ex=self._log_keep_s)
            pipe.decr(_pending_key(delivery.hook_id))
            pipe.execute()

    def failed_attempt(self, hook_id: str) -> int:
        """One more failed attempt in a row for this hook: how many now."""
        with _unavailable_on_error():
            return int(self._redis.incr(_failures_key(hook_id)))

    def succeeded(self, hook_id: str) -> None:
        with _unavailable_on_error():
            self._redis.delete(_failures_key(hook_id))

    def failures_in_a_row(self, hook_id: str) -> int:
        with _unavailable_on_error():
            return int(self._redis.get(_failures_key(hook_id)) or 0)

    def log(self, hook_id: str, limit: int) -> list[Delivery]:
        """The hook's latest deliveries, newest first."""
        with _unavailable_on_error():
            ids = self._redis.zrevrange(_log_key(hook_id), 0, limit - 1)
            raws = self._redis.mget([_record_key(i.decode()) for i in ids]) if ids else []
        return [Delivery.from_json(raw) for raw in raws if raw is not None]

    def forget(self, hook_id: str) -> None:
        """A deleted hook's log and counters (its waiting deliveries are dropped when due)."""
        with _unavailable_on_error():
            self._redis.delete(_log_key(hook_id), _pending_key(hook_id), _failures_key(hook_id))

    def wait(self, timeout_s: float) -> None:
        """Until something is queued or ``timeout_s`` passes."""
        with _unavailable_on_error():
            self._redis.blpop([WAKE], timeout=max(0.01, timeout_s))

    def beat(self, deliverer: str, ttl_s: int) -> None:
        """A deliverer's sign of life (its health check reads it)."""
        with _unavailable_on_error():
            self._redis.set(f"webhooks:deliverer:{deliverer}", 1, ex=ttl_s)

    def alive(self, deliverer: str) -> bool:
        with _unavailable_on_error():
            return bool(self._redis.exists(f"webhooks:deliverer:{deliverer}"))

    def _log(self, pipe: "redis.client.Pipeline[bytes]", delivery: Delivery) -> None:
        key = _log_key(delivery.hook_id)
        pipe.zadd(key, {delivery.id: delivery.first_at})
        pipe.zremrangebyrank(key, 0, -(self._log_size + 1))


def delivery_queue_resource(url: str, log_size: int, log_keep_s: int) -> Iterator[DeliveryQueue]:
    queue = DeliveryQueue.from_url(url, log_size, log_keep_s)
    yield queue
    queue.close()


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise Unavailable("webhook deliveries (redis) unreachable") from exc
