from typing import ClassVar

from pydantic import BaseModel, Field

from shared.config import DerivedSettings, LogSettings, ServiceSettings, StorageSettings
from shared.web import AuthSettings, RateLimitSettings


class OnDemandSettings(BaseModel):
    max_pixels: int = Field(
        16_000_000,
        ge=1,
        description="most pixels decoding an original may hold to make a missing copy here "
        "(JPEG decodes at reduced size); past it the worker's copy is awaited",
    )


class CdnApiSettings(ServiceSettings):
    service: ClassVar[str] = "cdnapi"

    log: LogSettings = LogSettings()
    auth: AuthSettings = AuthSettings()
    # the images nginx's cache misses: a first scroll through a library asks many thumbnails
    rate_limit: RateLimitSettings = RateLimitSettings(read="6000/minute")
    storage: StorageSettings
    # sizes of the copies made on demand when the worker's are missing: keep as the worker's
    derived: DerivedSettings = DerivedSettings()
    on_demand: OnDemandSettings = OnDemandSettings()
