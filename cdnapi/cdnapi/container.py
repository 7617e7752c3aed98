from dependency_injector import containers, providers

from shared.storage import MinioObjectStore

from cdnapi.service import ImageService
from cdnapi.settings import CdnApiSettings


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=CdnApiSettings)

    object_store = providers.Singleton(MinioObjectStore.from_settings, settings.provided.storage)
    image_service = providers.Factory(ImageService, store=object_store)
