"""Celery: the app both sides share, the producer adapter and the task names."""

from shared.queue.celery_queue import VISIBILITY_TIMEOUT_S, CeleryTaskQueue, TaskQueue, make_celery
from shared.queue.task_names import (
    ENRICH_IMAGES,
    ENRICH_QUEUE,
    EVALUATE_MODEL,
    FETCH_URLS,
    INDEX_IMAGES,
    INDEX_ISOLATED,
    RECONCILE,
)

__all__ = [
    "ENRICH_IMAGES",
    "ENRICH_QUEUE",
    "EVALUATE_MODEL",
    "FETCH_URLS",
    "INDEX_IMAGES",
    "INDEX_ISOLATED",
    "RECONCILE",
    "VISIBILITY_TIMEOUT_S",
    "CeleryTaskQueue",
    "TaskQueue",
    "make_celery",
]
