"""The invariants a deployment must hold to start as shipped, checked on the files themselves
(docker/service.Dockerfile, docker-compose.yml, docker/k8s) against the code and the measured
memory peaks (tests/bench/results/memory.json, `make bench-memory`). Each check names the
mistake it catches. That every service which checks keys gets them: test_compose.py and
test_k8s.py (the services found from their settings classes)."""

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from ingestworker.settings import IngestWorkerSettings
from tests.support.deployment import compose, k8s_deployments, k8s_env
from tests.support.paths import ROOT

DOCKERFILE = ROOT / "docker" / "service.Dockerfile"
K8S = ROOT / "docker" / "k8s"
MEMORY = ROOT / "tests" / "bench" / "results" / "memory.json"
# compose and k8s name -> the bench's process name and the settings' env prefix
SERVICES = {
    "ingestapi": ("ingestapi", "INGESTAPI"),
    "searchapi": ("searchapi", "SEARCHAPI"),
    "cdnapi": ("cdnapi", "CDNAPI"),
    "ingestworker": ("worker", "INGESTWORKER"),
    "ingestbeat": ("beat", "INGESTWORKER"),
}
# Kubernetes quantities: M is 10^6, Mi 2^20; docker (compose) reads k, m, g as 2^10, 2^20, 2^30
K8S_UNITS = {"": 1, "k": 1000, "M": 1000**2, "G": 1000**3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
COMPOSE_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}


# ---- the image
def runtime_stage() -> str:
    return DOCKERFILE.read_text().split(" AS runtime", 1)[1]


def build_args(stage: str) -> dict[str, str]:
    return dict(re.findall(r"^ARG (\w+)=(\S+)", stage, flags=re.M))


def expand(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), text)


def image_uid() -> int:
    stage = runtime_stage()
    (user,) = re.findall(r"^USER (\S+)", stage, flags=re.M)
    uid = expand(user, build_args(stage)).split(":")[0]
    # a name ("USER app") makes the kubelet refuse runAsNonRoot: it cannot check a name
    assert uid.isdigit(), f"USER must be numeric, got {user!r}"
    return int(uid)


def image_commands() -> list[list[str]]:
    """The runtime stage's RUN commands, split into words, with build args expanded."""
    stage = runtime_stage()
    runs = re.findall(r"^RUN (.+?)(?<!\\)$", stage, flags=re.M | re.S)
    words = [shlex.split(expand(run.replace("\\\n", " "), build_args(stage))) for run in runs]
    commands: list[list[str]] = []
    for run in words:
        current: list[str] = []
        for word in [*run, "&&"]:
            if word in ("&&", ";"):
                commands.append(current)
                current = []
            else:
                current.append(word)
    return [c for c in commands if c]


def created_and_owned() -> tuple[set[Path], dict[Path, str]]:
    """Folders the image makes (mkdir), and trees it hands to an owner (chown -R)."""
    made: set[Path] = {Path("/home/app")}  # useradd --create-home
    owned: dict[Path, str] = {}
    for command in image_commands():
        if command[:1] == ["mkdir"]:
            paths = [Path(a) for a in command[1:] if not a.startswith("-")]
            made |= set(paths)
            if "-p" in command:  # and every folder above
                made |= {parent for path in paths for parent in path.parents}
        if command[:2] == ["chown", "-R"]:
            owned[Path(command[3])] = command[2]
    return made, owned


def assert_mount_point_ready(path: str, uid: int) -> None:
    made, owned = created_and_owned()
    target = Path(path)
    # a volume over a path the image lacks is created root-owned: the service cannot write
    assert target in made, f"{path} is not created by the image"
    owners = [owner for tree, owner in owned.items() if target == tree or tree in target.parents]
    assert owners and all(o.split(":")[0] == str(uid) for o in owners), (
        f"{path} is not owned by the service user {uid}"
    )


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    assert image_uid() > 0


# ---- compose
def service_images() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("build", {}).get("dockerfile") == "docker/service.Dockerfile"
    }


def test_every_named_volume_mounts_where_the_image_made_a_folder_for_its_user() -> None:
    named = set(compose()["volumes"])
    uid = image_uid()
    mounts = 0
    for service in service_images().values():
        for volume in service.get("volumes", []):
            source, target = str(volume).split(":")[:2]
            if source in named:
                assert_mount_point_ready(target, uid)
                mounts += 1
    assert mounts >= 2  # the worker's and searchapi's model cache


def worker_concurrency_of(command: list[str], env: dict[str, Any]) -> str:
    # celery's default is one child per CPU of the node, each holding a model
    assert "--concurrency" not in command and "-c" not in command, (
        "concurrency comes from the config (worker.concurrency), not the command line"
    )
    return str(env["INGESTWORKER__WORKER__CONCURRENCY"])


def test_worker_concurrency_is_set_from_the_config_in_compose() -> None:
    worker = compose()["services"]["ingestworker"]
    assert worker_concurrency_of(worker["command"], worker["environment"]) == (
        "${WORKER_CONCURRENCY:-1}"
    )
    assert IngestWorkerSettings.model_fields["worker"].default.concurrency == 1


def mib(size: str, units: dict[str, int]) -> float:
    match = re.fullmatch(r"([\d.]+)([a-zA-Z]*)", str(size))
    assert match, size
    number, unit = match.groups()
    if units is COMPOSE_UNITS:
        unit = unit.lower().removesuffix("b")
    return float(number) * units[unit] / 2**20


def peaks() -> dict[str, Any]:
    return dict(json.loads(MEMORY.read_text()))


def test_compose_memory_limits_cover_the_measured_peaks() -> None:
    measured = peaks()
    factor = measured["limit_factor"]
    for name, (process, _) in SERVICES.items():
        service = compose()["services"][name]
        memory = service["deploy"]["resources"]
        limit = mib(expand_default(memory["limits"]["memory"]), COMPOSE_UNITS)
        peak = measured["peak_mib"][process]
        assert limit >= factor * peak, f"{name}: limit {limit:.0f} MiB, peak {peak} MiB"
        assert mib(expand_default(memory["reservations"]["memory"]), COMPOSE_UNITS) >= peak, name


def expand_default(value: str) -> str:
    """${VAR:-default} -> default (what compose runs when .env leaves VAR unset)."""
    match = re.fullmatch(r"\$\{\w+:-(.+)\}", str(value))
    return match.group(1) if match else str(value)


# ---- Kubernetes
def pod(name: str) -> dict[str, Any]:
    return dict(k8s_deployments()[name]["spec"]["template"]["spec"])


@pytest.mark.parametrize("name", list(SERVICES))
def test_k8s_pods_run_as_the_images_user(name: str) -> None:
    uid = image_uid()
    context = pod(name)["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == uid, "runAsNonRoot with the image's USER needs its number"
    assert context["fsGroup"] == uid, "mounted volumes must be writable by the service user"
    for container in pod(name)["containers"]:
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        for mount in container.get("volumeMounts", []):
            assert_mount_point_ready(mount["mountPath"], uid)


def test_worker_concurrency_is_set_from_the_config_in_k8s() -> None:
    container = pod("ingestworker")["containers"][0]
    assert worker_concurrency_of(container["command"], k8s_env("ingestworker")) == "1"


def test_k8s_memory_limits_cover_the_measured_peaks() -> None:
    measured = peaks()
    factor = measured["limit_factor"]
    for name, (process, _) in SERVICES.items():
        resources = pod(name)["containers"][0]["resources"]
        peak = measured["peak_mib"][process]
        limit = mib(resources["limits"]["memory"], K8S_UNITS)
        assert limit >= factor * peak, f"{name}: limit {limit:.0f} MiB, peak {peak} MiB"
        assert mib(resources["requests"]["memory"], K8S_UNITS) >= peak, name


def test_the_memory_peaks_were_measured_with_the_production_model_size() -> None:
    measured = peaks()
    assert "ViT-B/32" in measured["model"] and measured["worker_children"] == 1
    assert measured["load"]["job_states"] == ["indexed"]
    assert set(measured["peak_mib"]) == {process for process, _ in SERVICES.values()}
