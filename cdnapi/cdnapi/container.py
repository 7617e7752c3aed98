from dependency_injector import containers, providers

from cdnapi.service import ImageService
from cdnapi.settings import CdnApiSettings
from shared.config import Limit
from shared.storage import MinioObjectStore
from shared.web import AuthSettings, RateLimiter


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=CdnApiSettings)

    # one per process: the shared route dependencies check signed URLs with it
    url_signer = providers.Singleton(AuthSettings.url_signer, settings.provided.auth)
    rate_limiter = providers.Singleton(RateLimiter, settings.provided.rate_limit)
    object_store = providers.Singleton(MinioObjectStore.from_settings, settings.provided.storage)
    image_service = providers.Factory(
        ImageService,
        store=object_store,
        thumbnail_px=settings.provided.derived.thumbnail_px,
        preview_px=settings.provided.derived.preview_px,
        max_pixels=providers.Factory(
            Limit, settings.provided.on_demand.max_pixels, "on_demand.max_pixels"
        ),
    )
