"""Thin tasks: parse, call a service from the container, map outages to retries and give-ups
to 'failed'. Registered by name on whichever app loads this module (shared_task): importing it
builds nothing."""

from collections.abc import Callable
from functools import partial
from typing import Any, NoReturn

from celery import Task, shared_task

from ingestworker.celery_app import container
from ingestworker.metrics import record_batch
from shared.errors import Unavailable
from shared.log import get_logger
from shared.queue import FETCH_URLS, INDEX_IMAGES, RECONCILE
from shared.schemas import ImageState, UploadDetails

log = get_logger(__name__)
# the ceiling Celery itself enforces; tasks.max_retries (config) decides when to give up
RETRY_CEILING = 20


@shared_task(name=INDEX_IMAGES, bind=True, max_retries=RETRY_CEILING)
def index_images(self: Task, image_ids: list[str], job_id: str | None = None) -> dict[str, Any]:
    try:
        report = container().index_pipeline().run(image_ids)
    except Unavailable as exc:
        _retry_or_give_up(self, exc, "index_retry", job_id, partial(_give_up, image_ids))
    record_batch(len(report.indexed), report.embed_s)
    return {"indexed": report.indexed, "failed": report.failed}


@shared_task(name=FETCH_URLS, bind=True, max_retries=RETRY_CEILING)
def fetch_urls(
    self: Task, items: list[list[str]], job_id: str, details: dict[str, Any]
) -> dict[str, Any]:
    service = container().url_download_service()
    try:
        report = service.run(job_id, [(slot, url) for slot, url in items], UploadDetails(**details))
    except Unavailable as exc:
        slots = [slot for slot, _ in items]
        _retry_or_give_up(self, exc, "fetch_retry", job_id, partial(_give_up_fetches, slots))
    return vars(report)


@shared_task(name=RECONCILE)
def reconcile() -> dict[str, Any]:
    """Periodic (beat): queue again what is stored but not indexed."""
    return vars(container().reconcile_service().run())


def _retry_or_give_up(
    task: Task, exc: Unavailable, event: str, job_id: str | None, give_up: Callable[[str], None]
) -> NoReturn:
    """An outage is retried with doubling waits; past tasks.max_retries, the items fail with
    the reason (visible in the API) and the task ends."""
    limits = container().settings().tasks
    retries = task.request.retries
    if retries >= limits.max_retries:
        give_up(f"gave up after {limits.max_retries} retries: {exc.detail}")
        raise exc
    log.warning(event, job_id=job_id, detail=exc.detail, retry=retries + 1)
    countdown = min(limits.max_backoff_s, 2.0**retries)
    raise task.retry(exc=exc, countdown=countdown, max_retries=limits.max_retries) from exc


def _give_up(image_ids: list[str], reason: str) -> None:
    jobs = container().job_store()
    for image_id in image_ids:
        jobs.set_state(image_id, ImageState.failed, reason)


def _give_up_fetches(slots: list[str], reason: str) -> None:
    jobs = container().job_store()
    for slot in slots:
        jobs.set_fetch(slot, ImageState.failed, reason)
