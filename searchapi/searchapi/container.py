from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from dependency_injector import containers, providers

from searchapi.facet_counts import FacetService
from searchapi.live_model import LiveModel
from searchapi.ranking import Ranker
from searchapi.saved_search_service import SavedSearchService
from searchapi.service import SearchService
from searchapi.settings import SearchApiSettings
from shared.config import Limit
from shared.embedding import load_embedder
from shared.embedding.model_card import model_card
from shared.saved_searches.store import SavedSearchStore
from shared.storage import MinioObjectStore
from shared.vectors import vector_index_resource
from shared.web import AuthSettings, RateLimiter
from shared.webhooks.hook_store import WebhookStore


def _pool(threads: int, name: str) -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=SearchApiSettings)

    # one per process: the signed URLs of results, and the route dependencies' checks
    url_signer = providers.Singleton(AuthSettings.url_signer, settings.provided.auth)
    rate_limiter = providers.Singleton(RateLimiter, settings.provided.rate_limit)
    embedder = providers.Singleton(load_embedder, settings.provided.embedding)
    vector_index = providers.Resource(
        vector_index_resource,
        settings.provided.milvus,
        embedder.provided.model_id,
        embedder.provided.dim,
    )
    # which model answers, and what its card says it knows (read once)
    live_model = providers.Singleton(
        LiveModel.of,
        embedder,
        providers.Callable(model_card, settings.provided.embedding.model),
    )
    inference_pool = providers.Resource(
        _pool, settings.provided.search.inference_threads, "inference"
    )
    image_pool = providers.Resource(_pool, settings.provided.search.image_threads, "image-decode")

    # the keyword side's searches, beside the meaning side's (which run on the caller's)
    keyword_pool = providers.Resource(_pool, settings.provided.search.keyword_threads, "keywords")
    ranker = providers.Singleton(
        Ranker,
        index=vector_index,
        fusion=settings.provided.search.fusion,
        keyword_weight=settings.provided.search.keyword_weight,
        rrf_k=settings.provided.search.rrf_k,
        candidates=settings.provided.search.fusion_candidates,
        executor=keyword_pool,
    )

    # one per process: it holds the LRU of query vectors
    search_service = providers.Singleton(
        SearchService,
        embedder=embedder,
        index=vector_index,
        ranker=ranker,
        executor=inference_pool,
        image_executor=image_pool,
        url_prefix=settings.provided.search.image_url_prefix,
        url_signer=url_signer,
        max_depth=settings.provided.search.max_depth,
        max_pixels=providers.Factory(
            Limit, settings.provided.search.max_pixels, "search.max_pixels"
        ),
        query_cache_size=settings.provided.search.query_cache_size,
    )
    # saved searches, kept in object storage (shared.saved_searches.store)
    object_store = providers.Singleton(MinioObjectStore.from_settings, settings.provided.storage)
    saved_search_service = providers.Singleton(
        SavedSearchService,
        store=providers.Singleton(SavedSearchStore, object_store),
        search=search_service,
        index=vector_index,
        max_searches=settings.provided.search.max_saved_searches,
        max_depth=settings.provided.search.max_depth,
        max_rows=settings.provided.search.facet_rows,
        # a saved search deleted takes its webhooks with it
        hooks=providers.Singleton(WebhookStore, object_store),
    )
    facet_service = providers.Singleton(
        FacetService,
        search=search_service,
        index=vector_index,
        depth=settings.provided.search.facet_depth,
        rows=settings.provided.search.facet_rows,
    )
