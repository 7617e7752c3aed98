"""Thin tasks: parse, call the pipeline, map outages to retries and give-ups to 'failed'."""

from typing import Any

from celery import Task

from ingestworker.celery_app import app, container, settings
from ingestworker.service.reconcile import ReconcileService
from ingestworker.service.url_ingest import UrlIngestService
from shared.errors import Unavailable
from shared.log import get_logger
from shared.queue import FETCH_URLS, INDEX_IMAGES, RECONCILE, CeleryTaskQueue
from shared.schemas import ImageState, UploadDetails

log = get_logger(__name__)
MAX_RETRIES = 5


@app.task(name=INDEX_IMAGES, bind=True, max_retries=MAX_RETRIES)
def index_images(self: Task, image_ids: list[str], job_id: str | None = None) -> dict[str, Any]:
    try:
        report = container().pipeline().run(image_ids)
    except Unavailable as exc:
        if self.request.retries >= MAX_RETRIES:
            _give_up(image_ids, f"gave up after {MAX_RETRIES} retries: {exc.detail}")
            raise
        log.warning("index_retry", job_id=job_id, detail=exc.detail, retry=self.request.retries + 1)
        raise self.retry(exc=exc, countdown=min(60, 2**self.request.retries)) from exc
    return {"indexed": report.indexed, "failed": report.failed}


@app.task(name=FETCH_URLS, bind=True, max_retries=MAX_RETRIES)
def fetch_urls(
    self: Task, items: list[list[str]], job_id: str, details: dict[str, Any]
) -> dict[str, Any]:
    c = container()
    service = UrlIngestService(
        c.fetcher(),
        c.intake(),
        c.job_store(),
        CeleryTaskQueue(app),
        batch_size=settings.reconcile.task_batch_size,
    )
    try:
        report = service.run(job_id, [(slot, url) for slot, url in items], UploadDetails(**details))
    except Unavailable as exc:
        if self.request.retries >= MAX_RETRIES:
            for slot, _ in items:
                c.job_store().set_fetch(slot, ImageState.failed, f"gave up: {exc.detail}")
            raise
        log.warning("fetch_retry", job_id=job_id, detail=exc.detail, retry=self.request.retries + 1)
        raise self.retry(exc=exc, countdown=min(60, 2**self.request.retries)) from exc
    return vars(report)


def _give_up(image_ids: list[str], reason: str) -> None:
    jobs = container().job_store()
    for image_id in image_ids:
        jobs.set_state(image_id, ImageState.failed, reason)


@app.task(name=RECONCILE)
def reconcile() -> dict[str, Any]:
    """Periodic (beat): queue again what is stored but not indexed."""
    c = container()
    service = ReconcileService(
        c.object_store(),
        c.vector_index(),
        c.job_store(),
        CeleryTaskQueue(app),
        batch_size=settings.reconcile.task_batch_size,
        stale_after_s=settings.reconcile.stale_after_s,
    )
    return vars(service.run())
