"""The Celery side of gathering queued indexing tasks into shared forward passes, on
celery-batches (the service side: service.gathered_indexing).

The worker's main process keeps each arriving `index_images` message (unacknowledged) in a
buffer instead of handing it to a child. The buffer is flushed to the prefork pool in groups of
about `embedding.batch_size` images:
- when `batching.max_tasks` tasks are waiting;
- or every `batching.max_wait_s`, while a child is free to take them. While every child is
  busy the batch can only grow, so it waits for a free child instead.

What celery-batches leaves out, and this adds:
- groups sized in images, so two children share a flush instead of one child taking it all;
- a task the child reports as hit by an outage (GroupResult.retry_in_s) is sent again with
  its wait as a countdown and its retry count, then acknowledged, as Task.retry does. Holding
  it unacknowledged across retries instead would outlive the broker's visibility timeout in a
  long outage, and the broker would hand out a second copy while the first still waits;
- a child killed under its group hands every task of the group back to the broker (as
  `task_reject_on_worker_lost` does for a plain task), and the guard in the task sends those
  on as isolated tasks.

It overrides celery-batches' private `_do_flush` and reads its `_buffer`: the
dependency is pinned to the minor version tested (tests/unit/ingestworker/test_gathering_task.py
fails when those hooks change).
"""

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from celery import Celery
from celery.worker.request import Request
from celery_batches import Batches, SimpleRequest
from celery_batches.trace import apply_batches_task

from shared.log import get_logger
from shared.telemetry import trace_headers

log = get_logger(__name__)


@dataclass(frozen=True)
class Gathering:
    max_tasks: int  # tasks waiting that flush at once
    max_wait_s: float  # longest a task waits for others while a child is free
    images_per_flush: int  # the size of the groups handed to children


@runtime_checkable
class GroupResult(Protocol):
    """What the task returns for a group: every task it does not name here is done."""

    @property
    def retry_in_s(self) -> Mapping[str, float]:
        """Task id → seconds to wait before it is run again (an outage)."""
        ...


class GatheredTask(Batches):  # type: ignore[misc]
    abstract = True

    def gathering(self) -> Gathering:
        """Read when the worker starts consuming: the task is built before any config is."""
        raise NotImplementedError

    def Strategy(self, task: Any, app: Celery, consumer: Any) -> Any:
        gathering = self.gathering()
        self.flush_every, self.flush_interval = gathering.max_tasks, gathering.max_wait_s
        self.images_per_flush = gathering.images_per_flush
        self.consume_with(consumer.pool)
        return super().Strategy(task, app, consumer)

    def consume_with(self, pool: Any) -> None:
        """The consumer's pool, which every flush goes through."""
        self._pool = pool
        self._children = int(getattr(pool, "num_processes", 0) or pool.limit or 1)
        self._in_flight = 0

    def _do_flush(self) -> None:
        if self._in_flight >= self._children and self._buffer.qsize() < self.flush_every:
            return  # every child is busy: the batch can only grow while it waits
        super()._do_flush()

    def flush(self, requests: Collection[Request]) -> None:
        for group in groups(list(requests), self.images_per_flush):
            self._apply(group)

    def _apply(self, group: list[Request]) -> None:
        simple = [SimpleRequest.from_request(r) for r in group]
        retries = {r.id: retries_of(r) for r in group}
        self._in_flight += 1

        def on_return(result: Any) -> None:
            self._in_flight -= 1
            # a task that raised returns None: its group is done, as a plain task's would be
            retry_in_s = result.retry_in_s if isinstance(result, GroupResult) else {}
            for request in group:
                wait = retry_in_s.get(request.id)
                if wait is None or self._send_again(request, retries[request.id] + 1, wait):
                    request.acknowledge()
                else:  # the broker did not take it: it hands this one out again itself
                    request.reject(requeue=True)
            if self._buffer.qsize():
                self._do_flush()

        def on_error(exc_info: Any) -> None:
            self._in_flight -= 1
            log.warning("gathered_batch_lost", tasks=len(group), error=str(exc_info.exception))
            for request in group:
                request.reject(requeue=True)

        self._pool.apply_async(
            apply_batches_task,
            (self, (simple, retries), 0, None),
            callback=on_return,
            error_callback=on_error,
        )

    def _send_again(self, request: Request, retries: int, countdown_s: float) -> bool:
        """The task as a new message, due after its wait, to the queue it came from."""
        delivery = request.delivery_info or {}
        try:
            self.apply_async(
                args=request.args,
                kwargs=request.kwargs,
                task_id=request.id,
                retries=retries,
                countdown=countdown_s,
                queue=delivery.get("routing_key"),
                headers=trace_headers(request.request_dict),
            )
        except Exception as exc:  # any broker error: the old message stays
            log.warning("gathered_retry_not_sent", task_id=request.id, error=str(exc)[:200])
            return False
        return True


def retries_of(request: Any) -> int:
    """The outages this task has waited out (the count its message carries)."""
    return int((request.request_dict or {}).get("retries") or 0)


def groups(requests: Sequence[Any], images: int) -> Iterator[list[Any]]:
    """Consecutive requests, cut once a group holds ``images`` images (never inside a task)."""
    group: list[Any] = []
    count = 0
    for request in requests:
        group.append(request)
        count += len(image_ids_of(request))
        if count >= images:
            yield group
            group, count = [], 0
    if group:
        yield group


def image_ids_of(request: Any) -> list[str]:
    """The image ids a queued index task carries (sent as keyword arguments by the queue)."""
    kwargs = request.kwargs or {}
    ids = kwargs.get("image_ids", request.args[0] if request.args else [])
    return [str(i) for i in ids]
