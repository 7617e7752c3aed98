"""Thin tasks: parse, call the pipeline, map outages to retries and give-ups to 'failed'."""

from typing import Any

from celery import Task

from ingestworker.celery_app import app, container, settings
from ingestworker.service.reconcile import ReconcileService
from shared.errors import Unavailable
from shared.log import get_logger
from shared.queue import INDEX_IMAGES, RECONCILE, CeleryTaskQueue
from shared.schemas import ImageState

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
