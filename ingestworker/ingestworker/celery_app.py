"""The Celery app of the worker. Run: celery -A ingestworker.celery_app worker --pool prefork."""

from typing import Any

from celery.signals import worker_init, worker_process_init, worker_process_shutdown

from ingestworker import metrics  # first: it sets up prometheus_client's multiprocess mode
from ingestworker.container import Container
from ingestworker.settings import IngestWorkerSettings
from shared.config import load_settings
from shared.embedding.availability import require_models
from shared.log import configure_logging, get_logger
from shared.queue import RECONCILE, CeleryTaskQueue, make_celery
from shared.vectors import require_live_model

settings = load_settings(IngestWorkerSettings)
configure_logging(settings.log, "ingestworker")
# in the parent, before any child forks: a missing model stops the worker with one line
require_models(settings.embedding, "ingestworker")
require_live_model(settings.milvus, settings.embedding.model, "ingestworker")

app = make_celery("ingestworker", settings.redis)
app.conf.update(
    worker_hijack_root_logger=False,
    include=["ingestworker.tasks"],
    # a child loads the model before it reports up; celery's default 4 s killed every child
    # respawned after a crash, in a loop (found by the kill-mid-batch test)
    worker_proc_alive_timeout=300,
)
if settings.reconcile.interval_s:
    # run by `celery -A ingestworker.celery_app beat` (one beat per deployment)
    app.conf.beat_schedule = {
        "reconcile": {"task": RECONCILE, "schedule": settings.reconcile.interval_s}
    }

log = get_logger(__name__)
_container: Container | None = None


def container() -> Container:
    """The process's container, built once (in each prefork child, after the fork)."""
    global _container
    if _container is None:
        _container = Container(settings=settings)
        _container.init_resources()
        log.info("model_ready", **_container.embedder().info())
    return _container


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    # the main worker process only (beat and the command-line tools never serve)
    if settings.metrics.port:
        metrics.serve(settings.metrics.port, CeleryTaskQueue(app))
        log.info("metrics_served", port=settings.metrics.port)


@worker_process_init.connect
def _build_container(**_: Any) -> None:
    # torch must never run in the parent before fork (children hang): load the model here
    container()


@worker_process_shutdown.connect
def _close_container(**_: Any) -> None:
    if _container is not None:
        _container.shutdown_resources()
