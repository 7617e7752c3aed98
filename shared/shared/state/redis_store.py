"""Job and image state in Redis: short-lived, never the only copy of anything."""

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress

import redis
from redis.exceptions import LockError

from shared.errors import Unavailable
from shared.schemas import ImageState, JobItem, JobStatus

JOB_TTL_S = 7 * 24 * 3600
# the states counted for /stats: indexed images are counted by the index, deleted ones not at all
COUNTED = frozenset(ImageState) - {ImageState.indexed, ImageState.deleted}
# An image's state is written by this script alone. A deleted image keeps its state against
# every write but a fresh upload's (force): a task that still held it when it was deleted
# cannot make it `processing` or `indexed` again. Each counted state keeps a sorted set of
# its images (by when they got there), for counting without a scan.
_SET_STATE = """
local key, image_id, state, reason, at, ttl, force, prefix =
    KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local current = redis.call('HGET', key, 'state')
if current == 'deleted' and force ~= '1' then return 0 end
redis.call('HSET', key, 'state', state, 'reason', reason, 'at', at)
redis.call('EXPIRE', key, ttl)
if current and current ~= state then redis.call('ZREM', prefix .. current, image_id) end
if string.find(ARGV[8], ',' .. state .. ',', 1, true) then
    redis.call('ZADD', prefix .. state, at, image_id)
end
return 1
"""
_STATE_SETS = "states:"
# the images queued for enrichment and not finished, by when they were queued
_ENRICH_BACKLOG = "enrich:backlog"
# the reason of a deleted image while its delete has not gone all the way
UNFINISHED_DELETE = "deleting"
# a claim outlives a crashed holder by this much; storing one original takes far less
CLAIM_TIMEOUT_S = 120
CLAIM_WAIT_S = 60


class RedisJobStore:
    def __init__(self, client: "redis.Redis[bytes]", ttl_s: int = JOB_TTL_S) -> None:
        self._redis = client
        self._ttl = ttl_s
        self._set_state = client.register_script(_SET_STATE)
        self._counted = "," + ",".join(sorted(s.value for s in COUNTED)) + ","

    @classmethod
    def from_url(cls, url: str) -> "RedisJobStore":
        return cls(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3))

    def close(self) -> None:
        self._redis.close()

    def ping(self) -> None:
        with _unavailable_on_error():
            self._redis.ping()

    def create_job(self, job_id: str, items: Sequence[tuple[str, str]]) -> None:
        key = f"job:{job_id}"
        with _unavailable_on_error(), self._redis.pipeline() as pipe:
            pipe.rpush(key, *(json.dumps([image_id, name]) for image_id, name in items))
            pipe.expire(key, self._ttl)
            pipe.execute()

    def add_fetches(self, job_id: str, urls: Sequence[str]) -> list[str]:
        key = f"job:{job_id}"
        slots = [f"fetch:{job_id}:{n}" for n in range(len(urls))]
        with _unavailable_on_error(), self._redis.pipeline() as pipe:
            entries = [json.dumps([None, url, slot]) for url, slot in zip(urls, slots, strict=True)]
            pipe.rpush(key, *entries)
            pipe.expire(key, self._ttl)
            for slot in slots:
                self._put_state(pipe, slot, {"state": ImageState.queued.value})
            pipe.execute()
        return slots

    def set_fetch(
        self,
        slot: str,
        state: ImageState,
        reason: str | None = None,
        image_id: str | None = None,
    ) -> None:
        fields = {"state": state.value, "reason": reason or "", "id": image_id or ""}
        with _unavailable_on_error(), self._redis.pipeline() as pipe:
            self._put_state(pipe, slot, fields)
            pipe.execute()

    def set_states(self, image_ids: Sequence[str], state: ImageState) -> None:
        with _unavailable_on_error(), self._redis.pipeline() as pipe:
            for image_id in image_ids:
                self._write_state(image_id, state, client=pipe)
            pipe.execute()

    def set_state(self, image_id: str, state: ImageState, reason: str | None = None) -> bool:
        with _unavailable_on_error():
            return bool(self._write_state(image_id, state, reason))

    def set_stored(self, image_id: str) -> None:
        with _unavailable_on_error():
            self._write_state(image_id, ImageState.stored, force=True)

    def mark_deleted(self, image_ids: Sequence[str], finished: bool = True) -> None:
        reason = None if finished else UNFINISHED_DELETE
        with _unavailable_on_error(), self._redis.pipeline() as pipe:
            for image_id in image_ids:
                self._write_state(image_id, ImageState.deleted, reason, force=True, client=pipe)
            pipe.execute()

    def unfinished_deletes(self, image_ids: Sequence[str]) -> set[str]:
        with _unavailable_on_error(), self._redis.pipeline(transaction=False) as pipe:
            for image_id in image_ids:
                pipe.hmget(f"image:{image_id}", ["state", "reason"])
            rows = pipe.execute()
        wanted = [ImageState.deleted.value.encode(), UNFINISHED_DELETE.encode()]
        return {i for i, row in zip(image_ids, rows, strict=True) if row == wanted}

    def deleted_among(self, image_ids: Sequence[str]) -> set[str]:
        return {i for i, s in self.states_of(image_ids).items() if s == ImageState.deleted}

    def add_to_enrich(self, image_ids: Sequence[str]) -> None:
        if image_ids:
            with _unavailable_on_error():
                self._redis.zadd(_ENRICH_BACKLOG, dict.fromkeys(image_ids, time.time()), nx=True)

    def enrich_finished(self, image_ids: Sequence[str]) -> None:
        if image_ids:
            with _unavailable_on_error():
                self._redis.zrem(_ENRICH_BACKLOG, *image_ids)

    def enrich_backlog(self) -> int:
        with _unavailable_on_error():
            return int(self._redis.zcard(_ENRICH_BACKLOG))

    def enrich_queued_since(self, image_ids: Sequence[str]) -> dict[str, float]:
        if not image_ids:
            return {}
        with _unavailable_on_error(), self._redis.pipeline(transaction=False) as pipe:
            for image_id in image_ids:
                pipe.zscore(_ENRICH_BACKLOG, image_id)
            scores = pipe.execute()
        return {i: float(s) for i, s in zip(image_ids, scores, strict=True) if s is not None}

    def state_counts(self) -> dict[ImageState, int]:
        """Images in each counted state (COUNTED) whose state has not expired."""
        oldest = time.time() - self._ttl
        with _unavailable_on_error(), self._redis.pipeline() as pipe:
            for state in sorted(COUNTED):
                pipe.zremrangebyscore(f"{_STATE_SETS}{state.value}", "-inf", oldest)
                pipe.zcard(f"{_STATE_SETS}{state.value}")
            replies = pipe.execute()
        return dict(zip(sorted(COUNTED), (int(n) for n in replies[1::2]), strict=True))

    def _write_state(
        self,
        image_id: str,
        state: ImageState,
        reason: str | None = None,
        force: bool = False,
        client: "redis.client.Pipeline[bytes] | None" = None,
    ) -> object:
        args = [image_id, state.value, reason or "", time.time(), self._ttl, int(force)]
        return self._set_state(
            keys=[f"image:{image_id}"], args=[*args, _STATE_SETS, self._counted], client=client
        )

    def _put_state(
        self, pipe: "redis.client.Pipeline[bytes]", key: str, fields: dict[str, str]
    ) -> None:
        mapping: dict[str | bytes, str | float] = {"at": time.time()}
        mapping.update(fields)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, self._ttl)

    def state_of(self, image_id: str) -> ImageState | None:
        return self.state_and_reason(image_id)[0]

    def states_of(self, image_ids: Sequence[str]) -> dict[str, ImageState]:
        with _unavailable_on_error(), self._redis.pipeline(transaction=False) as pipe:
            for image_id in image_ids:
                pipe.hget(f"image:{image_id}", "state")
            states = pipe.execute()
        return {i: ImageState(s.decode()) for i, s in zip(image_ids, states, strict=True) if s}

    @contextmanager
    def claim(self, image_id: str) -> Iterator[None]:
        lock = self._redis.lock(
            f"claim:{image_id}", timeout=CLAIM_TIMEOUT_S, blocking_timeout=CLAIM_WAIT_S
        )
        with _unavailable_on_error():
            if not lock.acquire():
                raise Unavailable("the same image is being stored by another upload; retry")
        try:
            yield
        finally:
            with suppress(LockError, redis.RedisError):
                lock.release()

    def state_and_reason(self, image_id: str) -> tuple[ImageState | None, str | None]:
        with _unavailable_on_error():
            state, reason = self._redis.hmget(f"image:{image_id}", ["state", "reason"])
        if state is None:
            return None, None
        return ImageState(state.decode()), (reason.decode() if reason else None) or None

    def progress_of(self, image_ids: Sequence[str]) -> dict[str, tuple[ImageState, float]]:
        with _unavailable_on_error(), self._redis.pipeline(transaction=False) as pipe:
            for image_id in image_ids:
                pipe.hmget(f"image:{image_id}", ["state", "at"])
            rows = pipe.execute()
        return {
            image_id: (ImageState(state.decode()), float(at) if at else 0.0)
            for image_id, (state, at) in zip(image_ids, rows, strict=True)
            if state is not None
        }

    def start_delivery(self, task_id: str) -> int:
        key = f"deliveries:{task_id}"
        with _unavailable_on_error(), self._redis.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, self._ttl)
            started, _ = pipe.execute()
        return int(started) - 1

    def end_delivery(self, task_id: str) -> None:
        with _unavailable_on_error():
            self._redis.delete(f"deliveries:{task_id}")

    def get_job(self, job_id: str) -> JobStatus | None:
        with _unavailable_on_error():
            raw_items = self._redis.lrange(f"job:{job_id}", 0, -1)
            if not raw_items:
                return None
            entries = [json.loads(raw) for raw in raw_items]
            states = self._hashes([f"image:{e[0]}" if e[0] else e[2] for e in entries])
            # a downloaded URL follows its image from there on
            linked = {n: s[b"id"].decode() for n, s in enumerate(states) if s.get(b"id")}
            image_states = self._hashes([f"image:{i}" for i in linked.values()])
            for n, image_state in zip(linked, image_states, strict=True):
                if image_state:
                    states[n] = image_state
        items = [
            JobItem(
                id=entry[0] or linked.get(n),
                url=None if entry[0] else entry[1],
                filename=entry[1],
                state=ImageState(state.get(b"state", b"queued").decode()),
                reason=state.get(b"reason", b"").decode() or None,
            )
            for n, (entry, state) in enumerate(zip(entries, states, strict=True))
        ]
        return JobStatus.of(job_id, items)

    def _hashes(self, keys: Sequence[str]) -> list[dict[bytes, bytes]]:
        with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
            return list(pipe.execute())


def job_store_resource(url: str) -> Iterator[RedisJobStore]:
    """For a dependency-injector Resource: opened once, closed on shutdown."""
    store = RedisJobStore.from_url(url)
    yield store
    store.close()


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise Unavailable("job state store (redis) unreachable") from exc
