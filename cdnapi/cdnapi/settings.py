from typing import ClassVar

from pydantic import model_validator

from shared.config import DerivedSettings, LogSettings, ServiceSettings, StorageSettings
from shared.web import AuthSettings


class CdnApiSettings(ServiceSettings):
    service: ClassVar[str] = "cdnapi"

    log: LogSettings = LogSettings()
    auth: AuthSettings = AuthSettings()
    storage: StorageSettings
    # sizes of the copies made on demand when the worker's are missing: keep as the worker's
    derived: DerivedSettings = DerivedSettings()

    @model_validator(mode="after")
    def _signing_key(self) -> "CdnApiSettings":
        self.auth.require_signing_key()
        return self
