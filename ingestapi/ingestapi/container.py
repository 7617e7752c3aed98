from dependency_injector import containers, providers

from ingestapi.service import JobService, UploadService
from ingestapi.settings import IngestApiSettings
from shared.queue import CeleryTaskQueue, job_store_resource, make_celery
from shared.storage import MinioObjectStore


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=IngestApiSettings)

    object_store = providers.Singleton(MinioObjectStore.from_settings, settings.provided.storage)
    celery = providers.Singleton(make_celery, "ingestapi", settings.provided.redis)
    task_queue = providers.Singleton(CeleryTaskQueue, celery)
    job_store = providers.Resource(job_store_resource, settings.provided.redis.url)

    upload_service = providers.Factory(
        UploadService,
        store=object_store,
        queue=task_queue,
        jobs=job_store,
        settings=settings.provided.ingest,
    )
    job_service = providers.Factory(JobService, jobs=job_store)
