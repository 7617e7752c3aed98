from collections.abc import Iterator

from dependency_injector import containers, providers

from ingestworker.service.pipeline import IndexPipeline
from ingestworker.settings import IngestWorkerSettings
from shared.embedding import Embedder, load_embedder
from shared.queue import RedisJobStore
from shared.storage import MinioObjectStore
from shared.vectors import MilvusVectorIndex


def _job_store(url: str) -> Iterator[RedisJobStore]:
    store = RedisJobStore.from_url(url)
    yield store
    store.close()


def _vector_index(
    settings: IngestWorkerSettings, embedder: Embedder
) -> Iterator[MilvusVectorIndex]:
    index = MilvusVectorIndex.connect(settings.milvus, embedder.model_id, embedder.dim)
    index.ensure_collection()
    yield index
    index.close()


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=IngestWorkerSettings)

    object_store = providers.Singleton(MinioObjectStore.from_settings, settings.provided.storage)
    job_store = providers.Resource(_job_store, settings.provided.redis.url)
    embedder = providers.Singleton(load_embedder, settings.provided.embedding)
    vector_index = providers.Resource(_vector_index, settings, embedder)

    pipeline = providers.Factory(
        IndexPipeline, store=object_store, index=vector_index, embedder=embedder, jobs=job_store
    )
