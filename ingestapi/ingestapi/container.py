from dependency_injector import containers, providers

from ingestapi.image_cache import NginxImageCache
from ingestapi.service import (
    DeletionService,
    EditService,
    ImageStatusService,
    JobService,
    KnownImagesService,
    RetryService,
    UploadService,
    UrlSubmissionService,
)
from ingestapi.service.browse import BrowseService, StatsService
from ingestapi.service.duplicate_groups import DuplicatesService
from ingestapi.service.evaluation_requests import ModelEvaluationService
from ingestapi.service.job_events import JobWatchers
from ingestapi.service.webhook_service import WebhookService
from ingestapi.settings import IngestApiSettings
from ingestapi.upload_limits import UploadLimits
from shared.config import Limit
from shared.evaluation_records import EvaluationStore
from shared.image_items import ItemMaker
from shared.images import PixelBudget
from shared.intake import Intake
from shared.queue import CeleryTaskQueue, make_celery
from shared.saved_searches.store import SavedSearchStore
from shared.state import job_store_resource
from shared.storage import MinioObjectStore
from shared.vectors import live_index_resource
from shared.web import AuthSettings, RateLimiter
from shared.webhooks.container import WebhookProviders


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=IngestApiSettings)

    # one per process: signed image URLs, the cache's refresh calls, the route dependencies
    url_signer = providers.Singleton(AuthSettings.url_signer, settings.provided.auth)
    rate_limiter = providers.Singleton(RateLimiter, settings.provided.rate_limit)
    object_store = providers.Singleton(MinioObjectStore.from_settings, settings.provided.storage)
    celery = providers.Singleton(make_celery, "ingestapi", settings.provided.redis)
    task_queue = providers.Singleton(CeleryTaskQueue, celery)
    job_store = providers.Resource(job_store_resource, settings.provided.redis.url)

    live_index = providers.Resource(live_index_resource, settings.provided.milvus)
    # one per process: every upload's decode takes its pixels from it
    decode_budget = providers.Singleton(PixelBudget, settings.provided.ingest.max_decoded_pixels)
    upload_limits = providers.Singleton(UploadLimits.of, settings.provided.ingest)
    intake = providers.Factory(
        Intake,
        store=object_store,
        jobs=job_store,
        index=live_index,
        max_bytes=upload_limits.provided.max_bytes,
        max_pixels=providers.Factory(
            Limit, settings.provided.ingest.max_pixels, "ingest.max_pixels"
        ),
        max_decoded_pixels=providers.Factory(
            Limit, settings.provided.ingest.max_decoded_pixels, "ingest.max_decoded_pixels"
        ),
        budget=decode_budget,
    )
    upload_service = providers.Factory(
        UploadService,
        intake=intake,
        queue=task_queue,
        jobs=job_store,
        settings=settings.provided.ingest,
        limits=upload_limits,
    )
    url_submission_service = providers.Factory(
        UrlSubmissionService,
        queue=task_queue,
        jobs=job_store,
        settings=settings.provided.ingest,
        fetch=settings.provided.fetch,
    )
    known_images_service = providers.Factory(KnownImagesService, jobs=job_store, index=live_index)
    job_service = providers.Factory(JobService, jobs=job_store)
    # one per process: the open event streams and the one poll per watched job
    job_watchers = providers.Singleton(
        JobWatchers, settings.provided.events, job_service.provided.get
    )
    retry_service = providers.Factory(
        RetryService, store=object_store, jobs=job_store, index=live_index, queue=task_queue
    )
    image_status_service = providers.Factory(
        ImageStatusService, store=object_store, jobs=job_store, index=live_index
    )
    image_cache = providers.Singleton(NginxImageCache, settings.provided.cache, url_signer)
    # webhooks: kept in object storage, their deliveries in Redis (sent by the worker's
    # deliverer); a delete is an event they may hear
    webhooks = providers.Container(
        WebhookProviders,
        object_store=object_store,
        redis_url=settings.provided.redis.url,
        settings=settings.provided.webhooks,
    )
    webhook_service = providers.Factory(
        WebhookService,
        hooks=webhooks.store,
        searches=providers.Singleton(SavedSearchStore, object_store),
        deliveries=webhooks.deliveries,
        settings=settings.provided.webhooks,
    )
    # a candidate model evaluated by the worker on a sample of the library
    model_evaluation_service = providers.Factory(
        ModelEvaluationService,
        store=providers.Singleton(EvaluationStore, object_store),
        queue=task_queue,
    )
    deletion_service = providers.Factory(
        DeletionService,
        store=object_store,
        jobs=job_store,
        index=live_index,
        cache=image_cache,
        events=webhooks.outbox,
    )
    edit_service = providers.Factory(
        EditService, store=object_store, jobs=job_store, index=live_index
    )
    item_maker = providers.Singleton(
        ItemMaker,
        settings.provided.library.image_url_prefix,
        url_signer.provided.sign,
    )
    duplicates_service = providers.Factory(DuplicatesService, index=live_index, items=item_maker)
    browse_service = providers.Factory(
        BrowseService, index=live_index, items=item_maker, duplicates=duplicates_service
    )
    stats_service = providers.Singleton(
        StatsService,
        jobs=job_store,
        index=live_index,
        cache_s=settings.provided.library.stats_cache_s,
    )
