from collections.abc import Iterator

from dependency_injector import containers, providers

from ingestapi.service import JobService, UploadService
from ingestapi.settings import IngestApiSettings
from shared.queue import CeleryTaskQueue, RedisJobStore, make_celery
from shared.storage import MinioObjectStore


def _job_store(url: str) -> Iterator[RedisJobStore]:
    store = RedisJobStore.from_url(url)
    yield store
    store.close()


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=IngestApiSettings)

    object_store = providers.Singleton(MinioObjectStore.from_settings, settings.provided.storage)
    celery = providers.Singleton(make_celery, "ingestapi", settings.provided.redis)
    task_queue = providers.Singleton(CeleryTaskQueue, celery)
    job_store = providers.Resource(_job_store, settings.provided.redis.url)

    upload_service = providers.Factory(
        UploadService,
        store=object_store,
        queue=task_queue,
        jobs=job_store,
        settings=settings.provided.ingest,
    )
    job_service = providers.Factory(JobService, jobs=job_store)
