"""`uv run reconcile`: queue again every stored image the live index lacks.

Run it after losing Redis (or on a schedule: the worker's beat task does the same every
reconcile.interval_s). Uses ingestworker's configuration; loads no model.
"""

import argparse
import sys

from ingestworker.service.reconcile import ReconcileService
from ingestworker.settings import IngestWorkerSettings
from shared.config import load_settings
from shared.errors import AppError
from shared.log import configure_logging
from shared.queue import CeleryTaskQueue, RedisJobStore, make_celery
from shared.storage import MinioObjectStore
from shared.vectors import LiveIndexReader


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reconcile", description=__doc__)
    parser.parse_args(argv)
    settings = load_settings(IngestWorkerSettings)
    configure_logging(settings.log.model_copy(update={"level": "WARNING"}), "reconcile")
    try:
        service = ReconcileService(
            MinioObjectStore.from_settings(settings.storage),
            LiveIndexReader.connect(settings.milvus),
            RedisJobStore.from_url(settings.redis.url),
            CeleryTaskQueue(make_celery("reconcile", settings.redis)),
            batch_size=settings.reconcile.task_batch_size,
            stale_after_s=settings.reconcile.stale_after_s,
        )
        report = service.run()
    except AppError as exc:
        print(f"reconcile failed: {exc.detail}", file=sys.stderr)
        return 1
    print(
        f"stored {report.stored}, indexed {report.indexed}, on their way {report.in_flight}, "
        f"queued again {report.requeued}" + (f" (job {report.job_id})" if report.job_id else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
