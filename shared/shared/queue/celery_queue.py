"""The Celery app both sides share (broker, delivery guarantees) and the producer adapter."""

from collections.abc import Mapping, Sequence
from typing import Protocol

from celery import Celery
from kombu.exceptions import ChannelError, OperationalError

from shared.config import RedisSettings
from shared.errors import Unavailable
from shared.queue.task_names import (
    ENRICH_IMAGES,
    ENRICH_QUEUE,
    EVALUATE_MODEL,
    FETCH_URLS,
    INDEX_IMAGES,
    INDEX_ISOLATED,
)
from shared.telemetry import trace_carrier

VISIBILITY_TIMEOUT_S = RedisSettings.model_fields["visibility_timeout_s"].default


def make_celery(name: str, redis: RedisSettings) -> Celery:
    app = Celery(name, broker=redis.url, backend=None)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        # ack after the task ran, and requeue when the worker process dies mid-task
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": redis.visibility_timeout_s,
            # how often a worker looks for tasks whose worker died (older than the timeout)
            "unacked_restore_interval": max(1, min(60, redis.visibility_timeout_s // 20)),
            "unacked_restore_throttle": 1,
        },
        broker_connection_timeout=3,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
    )
    return app


class TaskQueue(Protocol):
    def enqueue_index(self, image_ids: Sequence[str], job_id: str) -> None:
        """Index these images; the worker may gather them with other tasks' images."""
        ...

    def enqueue_isolated(self, image_ids: Sequence[str], job_id: str) -> None:
        """Index these images in a task of their own (suspects of a crash)."""
        ...

    def enqueue_fetch(
        self, items: Sequence[tuple[str, str]], job_id: str, details: dict[str, object]
    ) -> None:
        """Download (slot, url) items, then queue what they stored for indexing."""
        ...

    def enqueue_enrich(self, image_ids: Sequence[str], only: Sequence[str] = ()) -> None:
        """Enrich these indexed images, on the enrichment queue (workers of their own may
        take it: celery worker -Q enrich); ``only``: run just these enrichments again."""
        ...

    def depth(self) -> int:
        """Tasks waiting in the queue (not yet taken by a worker)."""
        ...


class CeleryTaskQueue:
    def __init__(self, app: Celery) -> None:
        self._app = app

    def enqueue_index(self, image_ids: Sequence[str], job_id: str) -> None:
        self._send(INDEX_IMAGES, {"image_ids": list(image_ids), "job_id": job_id})

    def enqueue_isolated(self, image_ids: Sequence[str], job_id: str) -> None:
        self._send(INDEX_ISOLATED, {"image_ids": list(image_ids), "job_id": job_id})

    def enqueue_fetch(
        self, items: Sequence[tuple[str, str]], job_id: str, details: dict[str, object]
    ) -> None:
        kwargs = {"items": [list(i) for i in items], "job_id": job_id, "details": details}
        self._send(FETCH_URLS, kwargs)

    def enqueue_enrich(self, image_ids: Sequence[str], only: Sequence[str] = ()) -> None:
        kwargs: dict[str, object] = {"image_ids": list(image_ids)}
        if only:
            kwargs["only"] = list(only)
        self._send(ENRICH_IMAGES, kwargs, ENRICH_QUEUE)

    def enqueue_evaluation(self, evaluation_id: str) -> None:
        """Evaluate a candidate model (shared.evaluation_records), at enrichment's low
        priority: it loads two models and embeds a sample twice."""
        self._send(EVALUATE_MODEL, {"evaluation_id": evaluation_id}, ENRICH_QUEUE)

    def _send(self, task: str, kwargs: Mapping[str, object], queue: str | None = None) -> None:
        queue = queue or self._app.conf.task_default_queue
        try:
            self._app.send_task(
                task,
                kwargs=kwargs,
                # the request's trace goes on in the worker (shared.telemetry)
                headers=trace_carrier(),
                # straight onto the queue's list: no exchange binding to lose if Redis is
                # flushed or restarts empty (a lost binding silently drops what is published)
                exchange="",
                routing_key=queue,
                queue=queue,  # without it celery routes to the default queue's key
            )
        except OperationalError as exc:
            raise Unavailable("task queue unreachable") from exc

    def depth(self) -> int:
        queue = self._app.conf.task_default_queue
        try:
            with self._app.connection_for_read() as conn:
                declared = conn.default_channel.queue_declare(queue=queue, passive=True)
        except ChannelError:  # never declared: nothing was ever queued
            return 0
        except OperationalError as exc:
            raise Unavailable("task queue unreachable") from exc
        return int(declared.message_count)
