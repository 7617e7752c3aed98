from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from dependency_injector import containers, providers

from searchapi.service import SearchService
from searchapi.settings import SearchApiSettings
from shared.embedding import Embedder, load_embedder
from shared.vectors import MilvusVectorIndex


def _vector_index(settings: SearchApiSettings, embedder: Embedder) -> Iterator[MilvusVectorIndex]:
    index = MilvusVectorIndex.connect(settings.milvus, embedder.model_id, embedder.dim)
    index.ensure_collection()
    yield index
    index.close()


def _inference_pool(threads: int) -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="inference")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=SearchApiSettings)

    embedder = providers.Singleton(load_embedder, settings.provided.embedding)
    vector_index = providers.Resource(_vector_index, settings, embedder)
    inference_pool = providers.Resource(_inference_pool, settings.provided.search.inference_threads)

    search_service = providers.Factory(
        SearchService,
        embedder=embedder,
        index=vector_index,
        executor=inference_pool,
        url_prefix=settings.provided.search.image_url_prefix,
    )
