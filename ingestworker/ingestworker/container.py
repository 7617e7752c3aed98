from dependency_injector import containers, providers

from ingestworker.service.pipeline import IndexPipeline
from ingestworker.settings import IngestWorkerSettings
from shared.embedding import load_embedder
from shared.queue import job_store_resource
from shared.storage import MinioObjectStore
from shared.vectors import vector_index_resource


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=IngestWorkerSettings)

    object_store = providers.Singleton(MinioObjectStore.from_settings, settings.provided.storage)
    job_store = providers.Resource(job_store_resource, settings.provided.redis.url)
    embedder = providers.Singleton(load_embedder, settings.provided.embedding)
    vector_index = providers.Resource(
        vector_index_resource,
        settings.provided.milvus,
        embedder.provided.model_id,
        embedder.provided.dim,
    )

    pipeline = providers.Factory(
        IndexPipeline,
        store=object_store,
        index=vector_index,
        embedder=embedder,
        jobs=job_store,
        thumbnail_px=settings.provided.derived.thumbnail_px,
        preview_px=settings.provided.derived.preview_px,
    )
