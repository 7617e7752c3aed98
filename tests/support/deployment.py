"""The deployment files as data: docker-compose.yml, the Kubernetes manifests (docker/k8s),
and which services check API keys (read from their settings classes, not listed by hand)."""

from typing import Any

import yaml

from cdnapi.settings import CdnApiSettings
from ingestapi.settings import IngestApiSettings
from ingestworker.settings import IngestWorkerSettings
from searchapi.settings import SearchApiSettings
from shared.config import ServiceSettings
from tests.support.paths import ROOT

K8S = ROOT / "docker" / "k8s"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "ingestapi": IngestApiSettings,
    "searchapi": SearchApiSettings,
    "cdnapi": CdnApiSettings,
    "ingestworker": IngestWorkerSettings,
}


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def k8s_documents() -> dict[str, list[dict[str, Any]]]:
    return {
        path.name: [d for d in yaml.safe_load_all(path.read_text()) if d]
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
    }


def k8s_deployments() -> dict[str, dict[str, Any]]:
    return {
        doc["metadata"]["name"]: doc
        for docs in k8s_documents().values()
        for doc in docs
        if doc["kind"] == "Deployment"
    }


def k8s_env(deployment: str) -> dict[str, Any]:
    """The first container's environment: each name with its value or valueFrom."""
    container = k8s_deployments()[deployment]["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("valueFrom", e.get("value")) for e in container.get("env", [])}


def auth_services() -> list[str]:
    """The services whose settings check keys (those with an auth section)."""
    return [name for name, cls in SETTINGS.items() if "auth" in cls.model_fields]
