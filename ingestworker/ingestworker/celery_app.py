"""The worker process. Run: celery -A ingestworker.celery_app worker --pool prefork.

Importing this module does no I/O and reads no config: the Celery app (`app`) is built by the
container on first use, when celery's command line asks for it. The checks that stop a
misconfigured worker with one line run in celeryd_init, in the parent before any child forks,
which also makes the metrics folder; each child builds its own model (worker_process_init:
torch must never run before the fork).
"""

import os
from typing import Any

from celery import Celery
from celery.signals import (
    celeryd_init,
    task_failure,
    task_retry,
    task_success,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
)

from ingestworker.container import Container
from shared.log import configure_logging, get_logger
from shared.preflight import check_live_model, check_models, exit_on_failure
from shared.telemetry import configure_tracing

log = get_logger(__name__)
_container = Container()


def container() -> Container:
    """This process's container, the one way tasks reach their services: one per process,
    its providers built on first use."""
    return _container


def __getattr__(name: str) -> Celery:
    # `celery -A ingestworker.celery_app` reads `app`: built then, not at import
    if name == "app":
        with exit_on_failure():
            return _container.celery()
    raise AttributeError(name)


# whether this worker indexes (takes the default queue); one for enrichment only (--queues
# enrich) never loads the embedding model: its children build what a task asks for
_indexes = True


@celeryd_init.connect
def _preflight(options: dict[str, Any] | None = None, **_: Any) -> None:
    """The first thing a worker does (before celery's own start-up output): a missing model or
    a live index of another model stops it with one line, before any child loads anything."""
    global _indexes
    with exit_on_failure():
        queues = (options or {}).get("queues") or []
        if isinstance(queues, str):
            queues = queues.split(",")
        _indexes = not queues or _container.celery().conf.task_default_queue in queues
        settings = _container.settings()
        configure_logging(settings.log, "ingestworker")
        configure_tracing(settings.telemetry, "ingestworker")
        check_models(settings.embedding, "ingestworker")
        check_live_model(settings.milvus, settings.embedding.model, "ingestworker")
        _container.worker_metrics()  # its folder, before any child records into it


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    """In the main worker process only (beat and the command-line tools never serve)."""
    settings = _container.settings()
    if settings.metrics.port:
        _container.worker_metrics().serve(settings.metrics.port, _container.task_queue())
        log.info("metrics_served", port=settings.metrics.port)


@worker_process_init.connect
def _build_model(**_: Any) -> None:
    # logging comes from the parent (worker_init): configured again here, after celery has
    # pointed sys.stderr at its logging proxy, every line would be swallowed by that proxy
    if not _indexes:
        log.info("enrichment_only", model_loaded=False)
        return
    _container.init_resources()
    log.info("model_ready", **_container.embedder().info())


@worker_process_shutdown.connect
def _close_resources(**_: Any) -> None:
    _container.shutdown_resources()
    _container.worker_metrics().child_exited(os.getpid())


@task_success.connect
def _succeeded(sender: Any = None, **_: Any) -> None:
    _container.worker_metrics().task_finished(getattr(sender, "name", "?"), "succeeded")


@task_retry.connect
def _retried(sender: Any = None, **_: Any) -> None:
    _container.worker_metrics().task_finished(getattr(sender, "name", "?"), "retried")


@task_failure.connect
def _failed(sender: Any = None, **_: Any) -> None:
    _container.worker_metrics().task_finished(getattr(sender, "name", "?"), "failed")
