from shared.queue.celery_queue import CeleryTaskQueue, TaskQueue, make_celery
from shared.queue.jobs import ImageStates, JobStore, RedisJobStore, job_store_resource
from shared.queue.tasks import FETCH_URLS, INDEX_IMAGES, RECONCILE

__all__ = [
    "FETCH_URLS",
    "INDEX_IMAGES",
    "RECONCILE",
    "CeleryTaskQueue",
    "ImageStates",
    "JobStore",
    "RedisJobStore",
    "TaskQueue",
    "job_store_resource",
    "make_celery",
]
