from collections.abc import Iterator

from dependency_injector import containers, providers

from ingestworker.service.fetch import UrlFetcher
from ingestworker.service.pipeline import IndexPipeline
from ingestworker.settings import IngestWorkerSettings
from shared.embedding import load_embedder
from shared.intake import Intake
from shared.netguard import FetchSettings
from shared.queue import job_store_resource
from shared.storage import MinioObjectStore
from shared.vectors import vector_index_resource


def _fetcher_resource(settings: FetchSettings) -> Iterator[UrlFetcher]:
    fetcher = UrlFetcher(settings)
    yield fetcher
    fetcher.close()


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

    fetcher = providers.Resource(_fetcher_resource, settings.provided.fetch)
    intake = providers.Factory(
        Intake,
        store=object_store,
        jobs=job_store,
        index=vector_index,
        max_bytes=settings.provided.fetch.max_bytes,
        max_pixels=settings.provided.fetch.max_pixels,
    )
