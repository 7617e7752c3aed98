from dependency_injector import containers, providers

from ingestapi.service import ImageStatusService, JobService, UploadService
from ingestapi.settings import IngestApiSettings
from shared.queue import CeleryTaskQueue, job_store_resource, make_celery
from shared.storage import MinioObjectStore
from shared.vectors import live_index_resource


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
    live_index = providers.Resource(live_index_resource, settings.provided.milvus)
    job_service = providers.Factory(JobService, jobs=job_store)
    image_status_service = providers.Factory(
        ImageStatusService, store=object_store, jobs=job_store, index=live_index
    )
