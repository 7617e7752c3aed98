"""The webhook providers every process that publishes events builds alike (ingestapi for
deletes, the worker for indexing, enrichment and delivery): a sub-container each composition
root includes with its own object store, Redis URL and webhook settings."""

from dependency_injector import containers, providers

from shared.storage import ObjectStore
from shared.webhooks.deliveries import delivery_queue_resource
from shared.webhooks.hook_store import HookSource, WebhookStore
from shared.webhooks.outbox import WebhookOutbox
from shared.webhooks.settings import WebhookSettings


class WebhookProviders(containers.DeclarativeContainer):
    object_store: providers.Dependency[ObjectStore] = providers.Dependency()
    redis_url = providers.Dependency(instance_of=str)
    settings = providers.Dependency(instance_of=WebhookSettings)

    # the hooks in object storage (read again when they change), their deliveries in Redis
    store = providers.Singleton(WebhookStore, object_store)
    hooks = providers.Singleton(HookSource, store, settings.provided.refresh_s)
    deliveries = providers.Resource(
        delivery_queue_resource,
        redis_url,
        settings.provided.log_size,
        settings.provided.log_keep_s,
    )
    outbox = providers.Singleton(
        WebhookOutbox,
        hooks=hooks,
        store=store,
        queue=deliveries,
        max_pending=settings.provided.max_pending,
    )
