"""Thin tasks: parse, call one service from the container (container()), map an outage the
service reports to Celery's retry. Registered by name on whichever app loads this module
(shared_task): importing it builds nothing."""

from typing import Any

from celery import Task, shared_task
from celery_batches import SimpleRequest

from ingestworker.adapters.gathering_task import GatheredTask, Gathering, image_ids_of
from ingestworker.celery_app import container
from ingestworker.service.gathered_indexing import Delivery, GatheredReport
from ingestworker.service.retry_policy import Outage
from shared.errors import Unavailable
from shared.queue import (
    ENRICH_IMAGES,
    EVALUATE_MODEL,
    FETCH_URLS,
    INDEX_IMAGES,
    INDEX_ISOLATED,
    RECONCILE,
)
from shared.schemas import UploadDetails
from shared.telemetry import context_from, links_to, trace_headers, tracer

_tracer = tracer(__name__)
# an outage is never a reason to fail an image: its task retries until the service answers
# (tasks.max_retries only decides when its images show as waiting)
RETRY_FOREVER = None
# an image queued for enrichment but not in the live collection: looked for this many times,
# this far apart (another process's write shows within Milvus's time tick), then let go
MISSING_LOOKS = 5
MISSING_WAIT_S = 2.0


class _GatheredIndexTask(GatheredTask):
    def gathering(self) -> Gathering:
        return container().gathering()


@shared_task(name=INDEX_IMAGES, base=_GatheredIndexTask, bind=True)
def index_images(
    self: Task, requests: list[SimpleRequest], retries: dict[str, int] | None = None
) -> GatheredReport:
    """Queued index tasks, gathered (adapters.gathering_task): one pipeline run over all their
    images. The tasks named in the report's retry_in_s go back to the buffer after their waits.
    """
    deliveries = [
        Delivery(
            task_id=str(request.id),
            image_ids=image_ids_of(request),
            job_id=(request.kwargs or {}).get("job_id"),
            retries=(retries or {}).get(str(request.id), 0),
        )
        for request in requests
    ]
    # one parent (the first task's upload); the other tasks gathered in are links
    carriers = [trace_headers(request.request_dict) for request in requests]
    with _tracer.start_as_current_span(
        "index_images",
        context=context_from(carriers[0] if carriers else None),
        links=links_to(carriers[1:]),
        attributes={"tasks": len(deliveries), "images": sum(len(d.image_ids) for d in deliveries)},
    ):
        return container().gathered_indexing().run(deliveries)


@shared_task(name=INDEX_ISOLATED, bind=True, max_retries=RETRY_FOREVER)
def index_isolated(self: Task, image_ids: list[str], job_id: str | None = None) -> dict[str, Any]:
    """A batch on its own, under the crash guard: for tasks whose batch killed a worker."""
    task_id = self.request.id or f"direct-{id(image_ids)}"
    with _tracer.start_as_current_span(
        "index_isolated", context=context_from(trace_headers(vars(self.request)))
    ):
        report = (
            container().isolated_indexing().run(task_id, image_ids, job_id, self.request.retries)
        )
    _retry_after(self, report.outage)
    if report.split is not None:
        return {"indexed": [], "failed": report.split.failed, "split": report.split.halves}
    return {"indexed": report.index.indexed, "failed": report.index.failed}


@shared_task(name=FETCH_URLS, bind=True, max_retries=RETRY_FOREVER)
def fetch_urls(
    self: Task, items: list[list[str]], job_id: str, details: dict[str, Any]
) -> dict[str, Any]:
    with _tracer.start_as_current_span(
        "fetch_urls", context=context_from(trace_headers(vars(self.request)))
    ):
        pairs = [(slot, url) for slot, url in items]
        report = (
            container()
            .url_download_service()
            .run(job_id, pairs, UploadDetails(**details), self.request.retries)
        )
    _retry_after(self, report.outage)
    return {"accepted": report.accepted, "duplicate": report.duplicate, "failed": report.failed}


@shared_task(name=ENRICH_IMAGES, bind=True, max_retries=RETRY_FOREVER)
def enrich_images(
    self: Task, image_ids: list[str], only: list[str] | None = None
) -> dict[str, Any]:
    """Enrichment of indexed images (queue "enrich"); ``only``: just these enrichments (run
    again). Images not yet visible to this process are looked for again a few times; an
    outage retries with growing waits."""
    last_look = self.request.retries >= MISSING_LOOKS
    # a trace of its own, linked to the indexing that queued it: enrichment may run long
    # after the upload's trace has ended, and the upload's trace stays the upload's
    with _tracer.start_as_current_span(
        "enrich_images",
        context=context_from(None),
        links=links_to([trace_headers(vars(self.request))]),
        attributes={"images": len(image_ids)},
    ):
        try:
            report = container().enrichment_service().run(image_ids, last_look, only or ())
        except Unavailable as exc:
            wait = container().retry_policy().wait_s(self.request.retries)
            raise self.retry(exc=exc, countdown=wait) from exc
    if report.missing and not last_look:
        again = {"image_ids": report.missing, "only": only}
        raise self.retry(kwargs=again, countdown=MISSING_WAIT_S)
    return {
        "enriched": report.enriched,
        "unchanged": report.unchanged,
        "gone": report.gone,
        "missing": report.missing,
    }


@shared_task(name=EVALUATE_MODEL, bind=True, max_retries=RETRY_FOREVER)
def evaluate_model(self: Task, evaluation_id: str) -> str:
    """A candidate model beside the live one, on a sample of the library (on the enrichment
    queue: it loads two models); an outage retries with growing waits."""
    try:
        return container().evaluation_runner().run(evaluation_id)
    except Unavailable as exc:
        wait = container().retry_policy().wait_s(self.request.retries)
        raise self.retry(exc=exc, countdown=wait) from exc


@shared_task(name=RECONCILE)
def reconcile() -> dict[str, Any]:
    """Periodic (beat): queue again what is stored but not indexed."""
    return vars(container().reconcile_service().run())


def _retry_after(task: Task, outage: Outage | None) -> None:
    if outage is not None:
        raise task.retry(exc=outage.error, countdown=outage.wait_s) from outage.error
