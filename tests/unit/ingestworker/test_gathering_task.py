"""The main process's side of gathering: how buffered index tasks are grouped, handed to the
pool, acknowledged, sent again after an outage, and given back to the broker when a child
dies. The pool, broker and messages are fakes; the real worker runs it in tests/integration."""

import inspect
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from celery_batches import Batches

from ingestworker.adapters.gathering_task import GatheredTask, Gathering, groups
from ingestworker.service.gathered_indexing import GatheredReport


@dataclass
class Message:
    """What a celery Request offers that gathering uses."""

    id: str
    image_ids: list[str]
    eta: None = None
    acked: bool = False
    requeued: bool | None = None
    name: str = "ingestworker.index_images"
    delivery_info: dict[str, Any] = field(default_factory=dict)
    hostname: str = "test"
    reply_to: None = None
    correlation_id: None = None
    request_dict: dict[str, Any] = field(default_factory=dict)
    args: tuple[Any, ...] = ()

    @property
    def kwargs(self) -> dict[str, Any]:
        return {"image_ids": self.image_ids, "job_id": "job"}

    @property
    def _payload(self) -> tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]:
        return (), self.kwargs, {}

    def acknowledge(self) -> None:
        self.acked = True

    def reject(self, requeue: bool = False) -> None:
        self.requeued = requeue


@dataclass
class Job:
    task_ids: list[str]
    retries: dict[str, int]
    callback: Callable[[Any], None]
    error_callback: Callable[[Any], None]


class Pool:
    num_processes = 2
    limit = 2

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def apply_async(self, fn: Any, args: Any, callback: Any, error_callback: Any) -> None:
        requests, retries = args[1]
        self.jobs.append(Job([r.id for r in requests], retries, callback, error_callback))


class Lost:
    exception = RuntimeError("Worker exited prematurely: signal 9 (SIGKILL)")


class Task(GatheredTask):
    name = "test.gathered"
    broker_down = False

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []

    def apply_async(self, *args: Any, **options: Any) -> None:  # type: ignore[override]
        if self.broker_down:
            raise ConnectionError("Redis is down")
        self.sent.append(options)

    def gathering(self) -> Gathering:
        return Gathering(max_tasks=8, max_wait_s=0.2, images_per_flush=4)


@pytest.fixture
def task() -> tuple[Task, Pool]:
    made, pool = Task(), Pool()
    gathering = made.gathering()
    made.flush_every, made.images_per_flush = gathering.max_tasks, gathering.images_per_flush
    made.consume_with(pool)
    return made, pool


def arrive(task: Task, *messages: Message) -> None:
    for message in messages:
        task._buffer.put(message)


def test_groups_are_cut_by_images_never_inside_a_task() -> None:
    sizes = [1, 1, 3, 1, 1, 40]
    messages = [Message(str(n), ["x"] * size) for n, size in enumerate(sizes)]
    cut = [[m.id for m in group] for group in groups(messages, 4)]
    assert cut == [["0", "1", "2"], ["3", "4", "5"]]


def test_a_flush_hands_each_group_to_the_pool_and_acknowledges_when_it_returns(
    task: tuple[Task, Pool],
) -> None:
    gathered, pool = task
    messages = [Message(f"t{n}", [f"i{n}"]) for n in range(6)]
    arrive(gathered, *messages)
    gathered._do_flush()
    assert [job.task_ids for job in pool.jobs] == [["t0", "t1", "t2", "t3"], ["t4", "t5"]]
    assert not any(m.acked for m in messages)  # acks late: only once the child is done
    pool.jobs[0].callback(GatheredReport())
    assert [m.acked for m in messages] == [True] * 4 + [False] * 2


def test_an_outage_sends_the_task_again_with_its_wait_and_retry_count_then_acks_it(
    task: tuple[Task, Pool],
) -> None:
    """Through the broker, as Task.retry: a message held across retries would outlive the
    visibility timeout, and the broker would hand out a second copy."""
    gathered, pool = task
    first = Message("t1", ["a"], delivery_info={"routing_key": "index"}, request_dict={
        "retries": 2, "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    })  # fmt: skip
    second = Message("t2", ["b"])
    arrive(gathered, first, second)
    gathered._do_flush()
    assert pool.jobs[0].retries == {"t1": 2, "t2": 0}  # so the child knows when to show waiting
    pool.jobs[0].callback(GatheredReport(retry_in_s={"t1": 4.0}))
    assert (first.acked, second.acked) == (True, True)
    [sent] = gathered.sent
    assert (sent["task_id"], sent["retries"], sent["countdown"]) == ("t1", 3, 4.0)
    assert (sent["queue"], sent["kwargs"]) == ("index", first.kwargs)
    assert sent["headers"] == {"traceparent": first.request_dict["traceparent"]}


def test_a_retry_the_broker_does_not_take_leaves_the_message_to_the_broker(
    task: tuple[Task, Pool],
) -> None:
    gathered, pool = task
    message = Message("t1", ["a"])
    arrive(gathered, message)
    gathered._do_flush()
    gathered.broker_down = True
    pool.jobs[0].callback(GatheredReport(retry_in_s={"t1": 1.0}))
    assert (message.acked, message.requeued) == (False, True)


def test_a_child_killed_under_its_group_gives_every_task_back_to_the_broker(
    task: tuple[Task, Pool],
) -> None:
    gathered, pool = task
    messages = [Message("t1", ["a"]), Message("t2", ["b"])]
    arrive(gathered, *messages)
    gathered._do_flush()
    pool.jobs[0].error_callback(Lost())
    assert [m.requeued for m in messages] == [True, True]
    assert not any(m.acked for m in messages)


def test_while_every_child_is_busy_tasks_wait_and_the_batch_grows(
    task: tuple[Task, Pool],
) -> None:
    gathered, pool = task
    arrive(gathered, *(Message(f"a{n}", [f"a{n}"] * 4) for n in range(2)))
    gathered._do_flush()
    assert len(pool.jobs) == 2  # both children busy
    arrive(gathered, Message("b1", ["b1"]), Message("b2", ["b2"]))
    gathered._do_flush()  # the timer: nobody free, so nothing is flushed
    assert len(pool.jobs) == 2
    arrive(gathered, Message("b3", ["b3"]))
    pool.jobs[0].callback(
        GatheredReport()
    )  # a child is free: what gathered meanwhile goes as one group
    assert [job.task_ids for job in pool.jobs[2:]] == [["b1", "b2", "b3"]]


def test_the_celery_batches_hooks_it_overrides_are_still_there() -> None:
    """GatheredTask overrides celery-batches' private _do_flush and reads its _buffer: a
    release that renames them would turn gathering off without an error."""
    made = Task()
    assert isinstance(made._buffer, queue.Queue)
    assert callable(vars(Batches)["_do_flush"])
    strategy = inspect.getsource(Batches.Strategy)
    for hook in ("self._do_flush", "self._buffer.put"):
        assert hook in strategy
