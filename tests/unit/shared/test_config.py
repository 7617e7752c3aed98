from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel

from shared.config import CONF_DIR_ENV, RedisSettings, ServiceSettings, StorageSettings
from shared.preflight import PreflightFailed, exit_on_failure, load_config


class Section(BaseModel):
    size: int = 1
    name: str = "default"


class DemoSettings(ServiceSettings):
    service: ClassVar[str] = "demosvc"

    redis: RedisSettings = RedisSettings()
    section: Section = Section()


class WithSecret(ServiceSettings):
    service: ClassVar[str] = "secretsvc"

    storage: StorageSettings


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CONF_DIR_ENV, str(tmp_path))
    return tmp_path


def test_yaml_values_are_read(conf: Path) -> None:
    (conf / "demosvc.yaml").write_text("redis:\n  host: redis.internal\n  port: 6400\n")
    settings = load_config(DemoSettings)
    assert settings.redis.host == "redis.internal"
    assert settings.redis.port == 6400
    assert settings.section.size == 1


def test_env_overrides_yaml_per_key(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (conf / "demosvc.yaml").write_text("redis:\n  host: redis.internal\n  port: 6400\n")
    monkeypatch.setenv("DEMOSVC__REDIS__HOST", "10.0.0.7")
    monkeypatch.setenv("DEMOSVC__SECTION__NAME", "from-env")
    settings = load_config(DemoSettings)
    assert settings.redis.host == "10.0.0.7"
    assert settings.redis.port == 6400  # the rest of the section still comes from YAML
    assert settings.section.name == "from-env"


def test_invalid_value_stops_with_one_line_naming_the_key(
    conf: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEMOSVC__REDIS__PORT", "not-a-port")
    with pytest.raises(SystemExit) as exc, exit_on_failure():
        load_config(DemoSettings)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "redis.port" in err
    assert "DEMOSVC__REDIS__PORT" in err


def test_missing_secret_names_its_env_variable(
    conf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (conf / "secretsvc.yaml").write_text("storage:\n  endpoint: s3:9000\n")
    with pytest.raises(PreflightFailed) as failed:
        load_config(WithSecret)
    assert "SECRETSVC__STORAGE__ACCESS_KEY" in failed.value.line


def test_unknown_yaml_key_is_refused(conf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (conf / "demosvc.yaml").write_text("redsi:\n  host: typo\n")
    with pytest.raises(PreflightFailed, match="redsi"):
        load_config(DemoSettings)


def test_secret_is_not_shown_in_repr(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRETSVC__STORAGE__ACCESS_KEY", "AKIA-visible")
    monkeypatch.setenv("SECRETSVC__STORAGE__SECRET_KEY", "top-secret-value")
    settings = load_config(WithSecret)
    assert "top-secret-value" not in repr(settings)
    assert settings.storage.secret_key.get_secret_value() == "top-secret-value"


def test_repository_conf_files_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every committed conf/<service>.yaml is valid for its service (secrets from env)."""
    from cdnapi.settings import CdnApiSettings
    from ingestapi.settings import IngestApiSettings
    from ingestworker.settings import IngestWorkerSettings
    from searchapi.settings import SearchApiSettings

    root = Path(__file__).resolve().parents[3]
    monkeypatch.setenv(CONF_DIR_ENV, str(root / "conf"))
    for cls in (IngestApiSettings, IngestWorkerSettings, CdnApiSettings, SearchApiSettings):
        prefix = cls.service.upper()
        monkeypatch.setenv(f"{prefix}__STORAGE__ACCESS_KEY", "k")
        monkeypatch.setenv(f"{prefix}__STORAGE__SECRET_KEY", "s")
        assert load_config(cls).model_dump()["log"]["level"] == "INFO"
