"""The Celery app of the worker. Run: celery -A ingestworker.celery_app worker --pool prefork."""

from typing import Any

from celery.signals import worker_process_init, worker_process_shutdown

from ingestworker.container import Container
from ingestworker.settings import IngestWorkerSettings
from shared.config import load_settings
from shared.log import configure_logging
from shared.queue import make_celery

settings = load_settings(IngestWorkerSettings)
configure_logging(settings.log, "ingestworker")

app = make_celery("ingestworker", settings.redis)
app.conf.update(worker_hijack_root_logger=False, include=["ingestworker.tasks"])

_container: Container | None = None


def container() -> Container:
    """The process's container, built once (in each prefork child, after the fork)."""
    global _container
    if _container is None:
        _container = Container(settings=settings)
        _container.init_resources()
    return _container


@worker_process_init.connect
def _build_container(**_: Any) -> None:
    # torch must never run in the parent before fork (children hang): load the model here
    container()


@worker_process_shutdown.connect
def _close_container(**_: Any) -> None:
    if _container is not None:
        _container.shutdown_resources()
