from typing import ClassVar

from shared.config import LogSettings, ServiceSettings, StorageSettings


class CdnApiSettings(ServiceSettings):
    service: ClassVar[str] = "cdnapi"

    log: LogSettings = LogSettings()
    storage: StorageSettings
