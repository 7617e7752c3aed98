"""The worker's one composition root: the Celery app, the adapters and every service its
tasks and command-line tools use. Building it connects to nothing: providers are called on
first use (settings in worker_init or a command's main; the model in each prefork child)."""

from collections.abc import Iterator

from celery import Celery
from dependency_injector import containers, providers

from ingestworker.adapters.url_fetcher import UrlFetcher
from ingestworker.service.crash_guard import CrashGuard
from ingestworker.service.gathered import GatheredIndexing, RetryPolicy
from ingestworker.service.pipeline import IndexPipeline
from ingestworker.service.reconcile import ReconcileService
from ingestworker.service.reindex import ReindexService, ReindexStates
from ingestworker.service.url_download import UrlDownloadService
from ingestworker.settings import IngestWorkerSettings
from shared.config import Limit, MilvusSettings
from shared.embedding import load_embedder
from shared.images import decode_image
from shared.intake import Intake
from shared.netguard import FetchSettings
from shared.preflight import load_config
from shared.queue import RECONCILE, CeleryTaskQueue, make_celery
from shared.state import job_store_resource
from shared.storage import MinioObjectStore
from shared.vectors import MilvusVectorIndex, live_index_resource, vector_index_resource

# a child loads the model before it reports up; celery's default 4 s killed every child
# respawned after a crash, in a loop (found by the kill-mid-batch test)
PROC_ALIVE_TIMEOUT_S = 300


def make_worker_celery(settings: IngestWorkerSettings) -> Celery:
    app = make_celery("ingestworker", settings.redis)
    app.conf.update(
        worker_hijack_root_logger=False,
        include=["ingestworker.tasks"],
        worker_proc_alive_timeout=PROC_ALIVE_TIMEOUT_S,
        # gathering holds tasks unacknowledged in the main process (celery-batches)
        worker_prefetch_multiplier=settings.batching.prefetch_per_child,
        # never one child per CPU of the node (celery's default): each child holds a model
        worker_concurrency=settings.worker.concurrency,
    )
    if settings.reconcile.interval_s:
        # run by `celery -A ingestworker.celery_app beat` (one beat per deployment)
        app.conf.beat_schedule = {
            "reconcile": {"task": RECONCILE, "schedule": settings.reconcile.interval_s}
        }
    return app


def _fetcher_resource(settings: FetchSettings) -> Iterator[UrlFetcher]:
    fetcher = UrlFetcher(settings)
    yield fetcher
    fetcher.close()


def _reindex_target(settings: MilvusSettings, model: str, dim: int) -> MilvusVectorIndex:
    """The collection of the embedder's model, created if need be but not made live."""
    target = MilvusVectorIndex.connect(settings, model, dim)
    target.ensure_collection()
    return target


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(load_config, IngestWorkerSettings)

    celery = providers.Singleton(make_worker_celery, settings)
    task_queue = providers.Singleton(CeleryTaskQueue, celery)
    object_store = providers.Singleton(MinioObjectStore.from_settings, settings.provided.storage)
    job_store = providers.Resource(job_store_resource, settings.provided.redis.url)
    embedder = providers.Singleton(load_embedder, settings.provided.embedding)
    # the live collection, which must be this model's (the worker writes into it)
    vector_index = providers.Resource(
        vector_index_resource,
        settings.provided.milvus,
        embedder.provided.model_id,
        embedder.provided.dim,
    )
    # whichever collection is live, without loading a model (reconcile)
    live_index = providers.Resource(live_index_resource, settings.provided.milvus)
    fetcher = providers.Resource(_fetcher_resource, settings.provided.fetch)

    decoder = providers.Object(decode_image)

    index_pipeline = providers.Factory(
        IndexPipeline,
        store=object_store,
        index=vector_index,
        embedder=embedder,
        jobs=job_store,
        thumbnail_px=settings.provided.derived.thumbnail_px,
        preview_px=settings.provided.derived.preview_px,
        decode=decoder,
        batch_size=settings.provided.embedding.batch_size,
        prepare_threads=settings.provided.batching.prepare_threads,
        duplicates=settings.provided.duplicates,
    )
    gathered_indexing = providers.Factory(
        GatheredIndexing,
        pipeline=index_pipeline,
        jobs=job_store,
        queue=task_queue,
        retry=providers.Factory(
            RetryPolicy,
            max_retries=settings.provided.tasks.max_retries,
            max_backoff_s=settings.provided.tasks.max_backoff_s,
        ),
    )
    intake = providers.Factory(
        Intake,
        store=object_store,
        jobs=job_store,
        index=vector_index,
        max_bytes=providers.Factory(Limit, settings.provided.fetch.max_bytes, "fetch.max_bytes"),
        max_pixels=providers.Factory(Limit, settings.provided.fetch.max_pixels, "fetch.max_pixels"),
        max_decoded_pixels=providers.Factory(
            Limit, settings.provided.fetch.max_decoded_pixels, "fetch.max_decoded_pixels"
        ),
    )
    url_download_service = providers.Factory(
        UrlDownloadService,
        fetcher=fetcher,
        intake=intake,
        jobs=job_store,
        queue=task_queue,
        batch_size=settings.provided.url_ingest.task_batch_size,
    )
    crash_guard = providers.Factory(
        CrashGuard,
        jobs=job_store,
        queue=task_queue,
        max_crashes=settings.provided.tasks.max_crashes,
    )
    reconcile_service = providers.Factory(
        ReconcileService,
        store=object_store,
        index=live_index,
        jobs=job_store,
        queue=task_queue,
        batch_size=settings.provided.reconcile.task_batch_size,
        stale_after_s=settings.provided.reconcile.stale_after_s,
    )
    # reindex fills the embedder's collection, keeps no upload state, and switches at the end
    reindex_target = providers.Singleton(
        _reindex_target,
        settings.provided.milvus,
        embedder.provided.model_id,
        embedder.provided.dim,
    )
    reindex_service = providers.Factory(
        ReindexService,
        store=object_store,
        target=reindex_target,
        pipeline=providers.Factory(
            IndexPipeline,
            store=object_store,
            index=reindex_target,
            embedder=embedder,
            jobs=providers.Factory(ReindexStates, job_store),
            thumbnail_px=settings.provided.derived.thumbnail_px,
            preview_px=settings.provided.derived.preview_px,
            batch_size=settings.provided.embedding.batch_size,
            prepare_threads=settings.provided.batching.prepare_threads,
            duplicates=settings.provided.duplicates,
        ),
        batch_size=settings.provided.embedding.batch_size,
    )
