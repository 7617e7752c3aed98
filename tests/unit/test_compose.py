"""What can be checked of the Docker setup without a Docker engine."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.deployment import auth_services, compose

ROOT = Path(__file__).resolve().parents[2]


def test_every_long_running_service_has_a_healthcheck() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if service.get("restart") == "no":  # one-shot init jobs
            continue
        assert "healthcheck" in service, name


def test_the_worker_can_be_scaled() -> None:
    worker = compose()["services"]["ingestworker"]
    assert "container_name" not in worker
    assert "ports" not in worker


def test_services_wait_for_healthy_dependencies() -> None:
    services = compose()["services"]
    for name in ("ingestapi", "ingestworker", "searchapi", "cdnapi", "frontend"):
        conditions = {d["condition"] for d in services[name]["depends_on"].values()}
        assert conditions <= {"service_healthy", "service_completed_successfully"}, name


def test_no_secret_is_written_in_the_compose_file() -> None:
    for service in compose()["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if "SECRET" in key or "PASSWORD" in key:
                assert str(value).startswith("${"), key


def test_service_images_run_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "docker" / "service.Dockerfile").read_text()
    stages = [line for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert len(stages) >= 3  # uv, build, runtime
    # the user itself (numeric, owning its folders): tests/unit/test_deployment.py
    assert "--no-install-workspace" in dockerfile


def test_api_healthchecks_ask_for_readiness() -> None:
    services = compose()["services"]
    for name in ("ingestapi", "searchapi", "cdnapi"):
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"]), name


def test_the_gpu_variant_reserves_an_nvidia_device_for_the_worker() -> None:
    gpu = yaml.safe_load((ROOT / "docker" / "compose.gpu.yml").read_text())["services"]
    devices = gpu["ingestworker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert gpu["ingestworker"]["environment"]["INGESTWORKER__EMBEDDING__DEVICE"] == "cuda"


def test_flower_is_optional() -> None:
    assert compose()["services"]["flower"]["profiles"] == ["flower"]


def test_every_api_gets_the_same_keys_and_nginx_the_signing_key() -> None:
    services = compose()["services"]
    assert auth_services() == ["ingestapi", "searchapi", "cdnapi"]
    for name in auth_services():
        env = services[name]["environment"]
        prefix = name.upper()
        assert env[f"{prefix}__AUTH__API_KEYS"] == "${API_KEYS:-[]}", name
        assert env[f"{prefix}__AUTH__URL_SIGNING_KEY"].startswith("${URL_SIGNING_KEY"), name
        assert env[f"{prefix}__AUTH__PROTECT_READS"] == "${PROTECT_READS:-false}", name
        assert env[f"{prefix}__AUTH__EXPOSED_ON"] == "${HTTP_BIND:-127.0.0.1}", name
    # nginx reads the very same two variables, and asks cdnapi at its start
    nginx = services["frontend"]["environment"]
    assert nginx["URL_SIGNING_KEY"].startswith("${URL_SIGNING_KEY")
    assert nginx["PROTECT_READS"] == "${PROTECT_READS:-false}"
    assert nginx["IMAGESEARCH_READS_CHECK_URL"] == "http://cdnapi:8000/readyz"
    assert not [name for name in nginx if name.startswith("NGINX_") and "READS" in name]


def test_published_ports_default_to_loopback_and_flower_needs_a_password() -> None:
    services = compose()["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("${") and ":-127.0.0.1}" in str(port), name
    flower = services["flower"]
    assert "--basic-auth=" in " ".join(flower["command"])
    assert "exit 1" in " ".join(flower["command"])  # refuses to start without one


def test_the_example_env_has_only_placeholders_the_services_refuse() -> None:
    from shared.config import is_placeholder

    env = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for key in ("MINIO_ROOT_PASSWORD", "URL_SIGNING_KEY", "FLOWER_BASIC_AUTH"):
        assert is_placeholder(env[key]), key
    assert all(is_placeholder(k) for k in yaml.safe_load(env["API_KEYS"]))


@pytest.mark.parametrize(
    ("service", "variable", "refused", "accepted"),
    [
        (
            "flower",
            "FLOWER_BASIC_AUTH",
            ["", "admin:", "admin:change-me-to-a-flower-password", "admin:admin"],
            "ops:7bd9c0f1e2",
        ),
        (
            "grafana",
            "GF_SECURITY_ADMIN_PASSWORD",
            ["", "admin", "change-me-to-a-grafana-password"],
            "c81f0e5a9d",
        ),
    ],
)
def test_monitors_refuse_to_start_on_default_or_placeholder_passwords(
    service: str, variable: str, refused: list[str], accepted: str
) -> None:
    """Their start commands, run by a real sh with the program replaced by `echo started`."""
    (command,) = compose()["services"][service]["command"]
    script = re.sub(r"exec .*$", "echo started", command.replace("$$", "$"))
    for value in refused:
        run = subprocess.run(["sh", "-c", script], env={variable: value}, capture_output=True)
        assert run.returncode == 1 and b"started" not in run.stdout, value
    run = subprocess.run(["sh", "-c", script], env={variable: accepted}, capture_output=True)
    assert (run.returncode, run.stdout) == (0, b"started\n")
