"""The composition root of `deliver-webhooks`, apart from the worker's (ingestworker.container):
the deliverer sends HTTP requests and needs only Redis, object storage and the webhook
settings, so it imports no model, decoder or enrichment, and stays small in memory.

It reads the worker's configuration (conf/ingestworker.yaml, `INGESTWORKER__*`): the sections
it has no use for are left to the worker, which checks them."""

from collections.abc import Iterator
from typing import ClassVar

from dependency_injector import containers, providers
from pydantic_settings import SettingsConfigDict

from ingestworker.adapters.webhook_sender import WebhookSender
from ingestworker.service.webhook_deliverer import WebhookDeliverer
from ingestworker.service.webhook_delivery import WebhookDelivery
from shared.config import LogSettings, RedisSettings, ServiceSettings, StorageSettings
from shared.preflight import load_config
from shared.storage import MinioObjectStore
from shared.webhooks.container import WebhookProviders
from shared.webhooks.settings import WebhookSettings


class DelivererSettings(ServiceSettings):
    service: ClassVar[str] = "ingestworker"

    log: LogSettings = LogSettings()
    redis: RedisSettings = RedisSettings()
    storage: StorageSettings
    webhooks: WebhookSettings = WebhookSettings()

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")


def _sender_resource(settings: WebhookSettings) -> Iterator[WebhookSender]:
    sender = WebhookSender(settings)
    yield sender
    sender.close()


class DelivererContainer(containers.DeclarativeContainer):
    settings = providers.Singleton(load_config, DelivererSettings)

    object_store = providers.Singleton(MinioObjectStore.from_settings, settings.provided.storage)
    webhooks = providers.Container(
        WebhookProviders,
        object_store=object_store,
        redis_url=settings.provided.redis.url,
        settings=settings.provided.webhooks,
    )
    sender = providers.Resource(_sender_resource, settings.provided.webhooks)
    delivery = providers.Factory(
        WebhookDelivery,
        queue=webhooks.deliveries,
        hooks=webhooks.hooks,
        store=webhooks.store,
        sender=sender,
        settings=settings.provided.webhooks,
    )
    deliverer = providers.Factory(
        WebhookDeliverer,
        delivery=delivery,
        queue=webhooks.deliveries,
        settings=settings.provided.webhooks,
    )
