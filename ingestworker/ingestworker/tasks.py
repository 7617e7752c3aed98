"""Thin tasks: parse, call a service from the container, map outages to retries and give-ups
to 'waiting'. Registered by name on whichever app loads this module (shared_task): importing it
builds nothing."""

from collections.abc import Callable
from contextlib import suppress
from functools import partial
from typing import Any, NoReturn

from celery import Task, shared_task
from celery_batches import SimpleRequest

from ingestworker.celery_app import container
from ingestworker.gathering import GatheredTask, Gathering, image_ids_of
from ingestworker.metrics import record_batch
from ingestworker.service.gathered import Delivery, RetryPolicy
from shared.errors import Unavailable
from shared.log import get_logger
from shared.queue import FETCH_URLS, INDEX_IMAGES, INDEX_ISOLATED, RECONCILE
from shared.schemas import ImageState, UploadDetails
from shared.telemetry import context_from, links_to, trace_headers, tracer

log = get_logger(__name__)
_tracer = tracer(__name__)
# an outage is never a reason to fail an image: its task retries until the service answers
# (tasks.max_retries only decides when its images show as waiting)
RETRY_FOREVER = None


class _GatheredIndexTask(GatheredTask):
    def gathering(self) -> Gathering:
        settings = container().settings()
        return Gathering(
            max_tasks=settings.batching.max_tasks,
            max_wait_s=settings.batching.max_wait_s,
            images_per_flush=settings.embedding.batch_size,
        )


@shared_task(name=INDEX_IMAGES, base=_GatheredIndexTask, bind=True)
def index_images(
    self: Task, requests: list[SimpleRequest], retries: dict[str, int] | None = None
) -> dict[str, Any]:
    """Queued index tasks, gathered (gathering.py): one pipeline run over all their images."""
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
        report = container().gathered_indexing().run(deliveries)
    record_batch(report.index)
    return {
        "indexed": report.index.indexed,
        "failed": report.index.failed,
        "isolated": report.isolated,
        "retry_in_s": report.retry_in_s,
    }


@shared_task(name=INDEX_ISOLATED, bind=True, max_retries=RETRY_FOREVER)
def index_isolated(self: Task, image_ids: list[str], job_id: str | None = None) -> dict[str, Any]:
    """A batch on its own, under the crash guard: for tasks whose batch killed a worker."""
    waiting = partial(_mark_waiting, image_ids)
    guard, task_id = container().crash_guard(), self.request.id or f"direct-{id(image_ids)}"
    try:
        split = guard.enter(task_id, image_ids, job_id)
    except Unavailable as exc:
        _retry(self, exc, "index_retry", job_id, waiting)
    if split is not None:
        return {"indexed": [], "failed": split.failed, "split": split.halves}
    try:
        with _tracer.start_as_current_span(
            "index_isolated", context=context_from(trace_headers(vars(self.request)))
        ):
            report = container().index_pipeline().run(image_ids)
    except Unavailable as exc:
        _retry(self, exc, "index_retry", job_id, waiting)
    finally:
        with suppress(Unavailable):
            guard.leave(task_id)
    record_batch(report)
    return {"indexed": report.indexed, "failed": report.failed}


@shared_task(name=FETCH_URLS, bind=True, max_retries=RETRY_FOREVER)
def fetch_urls(
    self: Task, items: list[list[str]], job_id: str, details: dict[str, Any]
) -> dict[str, Any]:
    service = container().url_download_service()
    try:
        with _tracer.start_as_current_span(
            "fetch_urls", context=context_from(trace_headers(vars(self.request)))
        ):
            pairs = [(slot, url) for slot, url in items]
            report = service.run(job_id, pairs, UploadDetails(**details))
    except Unavailable as exc:
        slots = [slot for slot, _ in items]
        _retry(self, exc, "fetch_retry", job_id, partial(_mark_fetches_waiting, slots))
    return vars(report)


@shared_task(name=RECONCILE)
def reconcile() -> dict[str, Any]:
    """Periodic (beat): queue again what is stored but not indexed."""
    return vars(container().reconcile_service().run())


def _retry(
    task: Task, exc: Unavailable, event: str, job_id: str | None, wait: Callable[[str], None]
) -> NoReturn:
    """An outage is retried with doubling waits up to tasks.max_backoff_s. Past
    tasks.max_retries its items show as waiting, with the reason, and the task goes on
    retrying at the longest wait: nothing fails because a service was down."""
    limits = container().settings().tasks
    policy = RetryPolicy(limits.max_retries, limits.max_backoff_s)
    retries = task.request.retries
    log.warning(event, job_id=job_id, detail=exc.detail, retry=retries + 1)
    if retries >= policy.max_retries:
        with suppress(Unavailable):  # Redis may be the service that is down
            wait(policy.waiting_reason(exc))
    raise task.retry(exc=exc, countdown=policy.wait_s(retries)) from exc


def _mark_waiting(image_ids: list[str], reason: str) -> None:
    jobs = container().job_store()
    for image_id in image_ids:
        jobs.set_state(image_id, ImageState.waiting, reason)


def _mark_fetches_waiting(slots: list[str], reason: str) -> None:
    jobs = container().job_store()
    for slot in slots:
        jobs.set_fetch(slot, ImageState.waiting, reason)
