from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel

from shared.config import CONF_DIR_ENV, RedisSettings, ServiceSettings, StorageSettings
from shared.preflight import PreflightFailed, exit_on_failure, load_config
from shared.web import AuthSettings


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
    from ingestworker.deliverer_container import DelivererSettings
    from ingestworker.settings import IngestWorkerSettings
    from searchapi.settings import SearchApiSettings

    root = Path(__file__).resolve().parents[3]
    monkeypatch.setenv(CONF_DIR_ENV, str(root / "conf"))
    services = (IngestApiSettings, IngestWorkerSettings, CdnApiSettings, SearchApiSettings)
    for cls in (*services, DelivererSettings):
        prefix = cls.service.upper()
        monkeypatch.setenv(f"{prefix}__STORAGE__ACCESS_KEY", "k")
        monkeypatch.setenv(f"{prefix}__STORAGE__SECRET_KEY", "s")
        assert load_config(cls).model_dump()["log"]["level"] == "INFO"


@pytest.mark.parametrize(
    "secret", ["change-me-to-a-long-random-string", "CHANGEME", "minioadmin", "password"]
)
def test_placeholder_secrets_are_refused_at_start(
    conf: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("SECRETSVC__STORAGE__ACCESS_KEY", "imagesearch")
    monkeypatch.setenv("SECRETSVC__STORAGE__SECRET_KEY", secret)
    with pytest.raises(PreflightFailed) as failed:
        load_config(WithSecret)
    message = str(failed.value)
    assert "storage.secret_key (env SECRETSVC__STORAGE__SECRET_KEY)" in message
    assert "placeholder" in message


class WithAuth(ServiceSettings):
    service: ClassVar[str] = "authsvc"

    auth: AuthSettings = AuthSettings()


@pytest.mark.parametrize(
    ("env", "starts"),
    [
        ({}, True),  # loopback: a local, single-user stack
        ({"AUTHSVC__AUTH__EXPOSED_ON": "localhost"}, True),
        ({"AUTHSVC__AUTH__EXPOSED_ON": "::1"}, True),
        ({"AUTHSVC__AUTH__EXPOSED_ON": "0.0.0.0"}, False),
        ({"AUTHSVC__AUTH__EXPOSED_ON": "photos.example.com"}, False),
        ({"AUTHSVC__AUTH__EXPOSED_ON": "0.0.0.0", "AUTHSVC__AUTH__ALLOW_KEYLESS": "true"}, True),
        ({"AUTHSVC__AUTH__EXPOSED_ON": "0.0.0.0", "AUTHSVC__AUTH__API_KEYS": '["k-7d1e9a"]'}, True),
        ({"AUTHSVC__AUTH__API_KEYS": '["change-me-to-a-long-random-key"]'}, False),
    ],
)
def test_a_keyless_stack_only_starts_on_loopback_unless_allowed(
    conf: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], starts: bool
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if starts:
        load_config(WithAuth)
        return
    with pytest.raises(PreflightFailed) as failed:
        load_config(WithAuth)
    assert "auth" in str(failed.value)


@pytest.fixture
def worker_conf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository's conf/ingestworker.yaml, with the storage keys it leaves to env."""
    monkeypatch.setenv(CONF_DIR_ENV, str(Path(__file__).resolve().parents[3] / "conf"))
    monkeypatch.setenv("INGESTWORKER__STORAGE__ACCESS_KEY", "k")
    monkeypatch.setenv("INGESTWORKER__STORAGE__SECRET_KEY", "s")


@pytest.mark.usefixtures("worker_conf")
def test_a_worker_retry_wait_as_long_as_the_visibility_timeout_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A task waiting out an outage is held for its wait: past the visibility timeout the
    broker would hand out a second copy."""
    from ingestworker.settings import IngestWorkerSettings

    monkeypatch.setenv("INGESTWORKER__REDIS__VISIBILITY_TIMEOUT_S", "60")
    monkeypatch.setenv("INGESTWORKER__TASKS__MAX_BACKOFF_S", "60")
    with pytest.raises(SystemExit) as exc, exit_on_failure():
        load_config(IngestWorkerSettings)
    assert exc.value.code == 2
    assert "tasks.max_backoff_s (60) must be below redis.visibility_timeout_s (60)" in (
        capsys.readouterr().err
    )
    monkeypatch.setenv("INGESTWORKER__TASKS__MAX_BACKOFF_S", "59")
    assert load_config(IngestWorkerSettings).tasks.max_backoff_s == 59


@pytest.mark.usefixtures("worker_conf")
def test_the_deliverer_reads_the_workers_webhook_settings_and_leaves_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """deliver-webhooks has a composition root of its own (no model, no enrichment), on the
    worker's configuration."""
    from ingestworker.deliverer_container import DelivererSettings

    monkeypatch.setenv("INGESTWORKER__WEBHOOKS__CONCURRENCY", "3")
    monkeypatch.setenv("INGESTWORKER__EMBEDDING__MODEL", "not/read-here")
    settings = load_config(DelivererSettings)
    assert settings.webhooks.concurrency == 3
    assert not hasattr(settings, "embedding")
