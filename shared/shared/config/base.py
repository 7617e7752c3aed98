"""Settings: defaults in conf/<service>.yaml, overridden by environment variables.

Every key can be overridden as ``<SERVICE>__<SECTION>__<KEY>`` (e.g. ``INGESTAPI__REDIS__HOST``).
"""

import os
from pathlib import Path
from typing import ClassVar

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from shared.config.sections import TelemetrySettings

CONF_DIR_ENV = "IMAGESEARCH_CONF_DIR"


def conf_dir() -> Path:
    return Path(os.environ.get(CONF_DIR_ENV, "conf"))


class ServiceSettings(BaseSettings):
    """One service's settings; subclasses set ``service`` (YAML file name and env prefix)."""

    service: ClassVar[str] = ""
    telemetry: TelemetrySettings = TelemetrySettings()

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="forbid")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env = EnvSettingsSource(
            settings_cls, env_prefix=f"{cls.service.upper()}__", env_nested_delimiter="__"
        )
        yaml_file = conf_dir() / f"{cls.service}.yaml"
        yaml_settings = YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file)
        return (init_settings, env, yaml_settings)


def describe_error(cls: type[ServiceSettings], exc: ValidationError) -> str:
    """One line naming the first bad key both as a config path and as its env variable."""
    err = exc.errors()[0]
    path = [str(p) for p in err["loc"]]
    dotted = ".".join(path) or "<root>"
    env = "__".join([cls.service.upper(), *(p.upper() for p in path)])
    return f"config error in {cls.service}: {dotted} (env {env}): {err['msg']}"
