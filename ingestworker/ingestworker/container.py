"""The worker's one composition root: the Celery app, the adapters and every service its
tasks and command-line tools use. Building it connects to nothing: providers are called on
first use (settings in worker_init or a command's main; the model in each prefork child)."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from celery import Celery
from dependency_injector import containers, providers

from ingestworker.adapters.gathering_task import Gathering
from ingestworker.adapters.url_fetcher import UrlFetcher
from ingestworker.enrichers import OcrEnricher, PlaceEnricher, TagEnricher
from ingestworker.enrichers.places import PlaceFinder
from ingestworker.enrichers.text_reader import TextReader
from ingestworker.metrics import WorkerMetrics
from ingestworker.service.crash_guard import CrashGuard
from ingestworker.service.enriching import EnrichmentService
from ingestworker.service.evaluation_runner import EvaluationRunner
from ingestworker.service.gathered_indexing import GatheredIndexing
from ingestworker.service.isolated_indexing import IsolatedIndexing
from ingestworker.service.model_evaluation import ModelEvaluation
from ingestworker.service.pipeline import IndexPipeline
from ingestworker.service.reconciliation import ReconcileService
from ingestworker.service.reindexing import ReindexService, ReindexStates
from ingestworker.service.retry_policy import RetryPolicy
from ingestworker.service.saved_search_source import SavedSearchSource
from ingestworker.service.url_download import UrlDownloadService
from ingestworker.settings import IngestWorkerSettings, WorkerMetricsSettings
from ingestworker.stages import (
    Embed,
    FileDuplicates,
    MatchSavedSearches,
    Prepare,
    PublishEvents,
    QueueEnrichment,
    Write,
)
from shared.config import EmbeddingSettings, Limit, MilvusSettings
from shared.embedding import Embedder, load_embedder
from shared.evaluation_records import EvaluationStore
from shared.images import decode_image
from shared.intake import Intake
from shared.netguard import FetchSettings
from shared.preflight import load_config
from shared.queue import RECONCILE, CeleryTaskQueue, make_celery
from shared.saved_searches.store import SavedSearchStore
from shared.state import EnrichBacklog, job_store_resource
from shared.storage import MinioObjectStore
from shared.vectors import MilvusVectorIndex, live_index_resource, vector_index_resource
from shared.webhooks.container import WebhookProviders

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


def _metrics_folder(settings: WorkerMetricsSettings) -> Path | None:
    """Files only where something serves them."""
    return settings.dir if settings.port else None


def _as_backlog(jobs: EnrichBacklog) -> EnrichBacklog:
    return jobs


Provided = providers.Provider[Any]


def _index_pipeline(
    settings: Provided,
    store: Provided,
    index: Provided,
    embedder: Provided,
    states: Provided,
    decode: Provided,
    queue: Provided,
    backlog: Provided,
    searches: Provided,
    outbox: Provided,
) -> providers.Factory[IndexPipeline]:
    """The index stages in order, writing into ``index`` and recording in ``states``: one
        definition for the live collection and the reindex target. A new stage is one module in
        ingestworker/stages and one provider here. Queue enrichment comes last: what it queues
        is indexed (enrichment: ingestworker.enrichers, on queue "enrich"); publish events
    follows it (webhooks: queued here, sent by `deliver-webhooks`)."""
    derived = settings.provided.derived
    return providers.Factory(
        IndexPipeline,
        prepare=providers.Factory(
            Prepare,
            store=store,
            states=states,
            decode=decode,
            thumbnail_px=derived.thumbnail_px,
            preview_px=derived.preview_px,
        ),
        embed=providers.Factory(Embed, embedder=embedder),
        # on the writer thread, in this order; whatever follows Write sees only indexed rows
        row_stages=providers.List(
            providers.Factory(
                FileDuplicates, index=index, store=store, settings=settings.provided.duplicates
            ),
            providers.Factory(MatchSavedSearches, searches=searches),
            providers.Factory(Write, index=index, store=store, states=states),
            providers.Factory(
                QueueEnrichment,
                queue=queue,
                backlog=backlog,
                enabled=settings.provided.enrichment.enabled,
            ),
            providers.Factory(PublishEvents, outbox=outbox),
        ),
        states=states,
        batch_size=settings.provided.embedding.batch_size,
        prepare_threads=settings.provided.batching.prepare_threads,
    )


def _model_loader(settings: EmbeddingSettings) -> Callable[[str], Embedder]:
    """Loads a model by name with the worker's embedding settings (runtime, dtype, threads)."""
    return lambda model: load_embedder(settings.model_copy(update={"model": model}))


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
    # built in the main worker process before the children fork (celery_app)
    worker_metrics = providers.Singleton(
        WorkerMetrics, providers.Callable(_metrics_folder, settings.provided.metrics)
    )

    # images queued for enrichment and not finished: counted by the state store
    enrich_backlog = providers.Callable(_as_backlog, job_store)
    decoder = providers.Object(decode_image)
    retry_policy = providers.Factory(
        RetryPolicy,
        max_retries=settings.provided.tasks.max_retries,
        max_backoff_s=settings.provided.tasks.max_backoff_s,
    )
    gathering = providers.Factory(
        Gathering,
        max_tasks=settings.provided.batching.max_tasks,
        max_wait_s=settings.provided.batching.max_wait_s,
        images_per_flush=settings.provided.embedding.batch_size,
    )

    # the saved searches compiled for this worker's model, matched against new images (the
    # model's name from the settings: an enrichment worker loads no model)
    saved_searches = providers.Singleton(
        SavedSearchSource,
        store=providers.Singleton(SavedSearchStore, object_store),
        model=settings.provided.embedding.model,
        refresh_s=settings.provided.saved_searches.refresh_s,
    )
    # webhooks: the hooks in object storage, their deliveries in Redis
    webhooks = providers.Container(
        WebhookProviders,
        object_store=object_store,
        redis_url=settings.provided.redis.url,
        settings=settings.provided.webhooks,
    )

    index_pipeline = _index_pipeline(
        settings,
        object_store,
        vector_index,
        embedder,
        job_store,
        decoder,
        task_queue,
        enrich_backlog,
        saved_searches,
        webhooks.outbox,
    )
    gathered_indexing = providers.Factory(
        GatheredIndexing,
        pipeline=index_pipeline,
        states=job_store,
        crashes=job_store,
        queue=task_queue,
        retry=retry_policy,
        metrics=worker_metrics,
    )
    crash_guard = providers.Factory(
        CrashGuard,
        crashes=job_store,
        states=job_store,
        queue=task_queue,
        max_crashes=settings.provided.tasks.max_crashes,
        published=webhooks.outbox,
    )
    isolated_indexing = providers.Factory(
        IsolatedIndexing,
        guard=crash_guard,
        pipeline=index_pipeline,
        states=job_store,
        retry=retry_policy,
        metrics=worker_metrics,
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
        retry=retry_policy,
        batch_size=settings.provided.url_ingest.task_batch_size,
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
    # the enrichment stages, in the order they run (shared.enrichment.ENRICHMENTS)
    place_finder = providers.Singleton(
        PlaceFinder, max_town_km=settings.provided.enrichment.max_town_km
    )
    text_reader = providers.Singleton(TextReader, settings.provided.enrichment.ocr)
    enrichers = providers.List(
        providers.Factory(PlaceEnricher, finder=place_finder),
        providers.Factory(
            OcrEnricher,
            store=object_store,
            reader=text_reader,
            enabled=settings.provided.enrichment.ocr.enabled,
        ),
        # one per process: it reads the model's calibration once
        providers.Singleton(
            TagEnricher,
            model=settings.provided.embedding.model,
            settings=settings.provided.enrichment.tags,
        ),
    )
    enrichment_service = providers.Factory(
        EnrichmentService,
        index=live_index,
        store=object_store,
        states=job_store,
        enrichers=enrichers,
        searches=saved_searches,
        events=webhooks.outbox,
    )
    # a candidate model beside the live one, on a sample of the library (no index touched)
    model_evaluation = providers.Factory(
        ModelEvaluation,
        library=live_index,
        store=object_store,
        load=providers.Callable(_model_loader, settings.provided.embedding),
        batch_size=settings.provided.embedding.batch_size,
    )
    evaluation_runner = providers.Factory(
        EvaluationRunner,
        store=providers.Singleton(EvaluationStore, object_store),
        evaluation=model_evaluation,
    )
    # reindex fills the embedder's collection, keeps no upload state, and switches at the end
    reindex_target = providers.Singleton(
        _reindex_target,
        settings.provided.milvus,
        embedder.provided.model_id,
        embedder.provided.dim,
    )
    reindex_states = providers.Factory(ReindexStates, job_store)
    reindex_pipeline = _index_pipeline(
        settings,
        object_store,
        reindex_target,
        embedder,
        reindex_states,
        decoder,
        task_queue,
        enrich_backlog,
        # those compiled for the model being indexed (searchapi compiles them once it is live)
        providers.Singleton(
            SavedSearchSource,
            store=providers.Singleton(SavedSearchStore, object_store),
            model=embedder.provided.model_id,
            refresh_s=settings.provided.saved_searches.refresh_s,
        ),
        # a reindex publishes nothing: its images are not new
        providers.Object(None),
    )
    reindex_service = providers.Factory(
        ReindexService,
        store=object_store,
        target=reindex_target,
        pipeline=reindex_pipeline,
        batch_size=settings.provided.embedding.batch_size,
    )
