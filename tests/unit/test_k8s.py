"""The Kubernetes manifests (docker/k8s), checked for structure: no cluster here, and no
kubeconform or helm to install."""

from pathlib import Path
from typing import Any

import yaml

K8S = Path(__file__).resolve().parents[2] / "docker" / "k8s"


def documents() -> dict[str, list[dict[str, Any]]]:
    return {
        path.name: [d for d in yaml.safe_load_all(path.read_text()) if d]
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
    }


def deployments() -> dict[str, dict[str, Any]]:
    return {
        doc["metadata"]["name"]: doc
        for docs in documents().values()
        for doc in docs
        if doc["kind"] == "Deployment"
    }


def test_every_manifest_is_listed_and_well_formed() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(documents())
    for name, docs in documents().items():
        for doc in docs:
            assert {"apiVersion", "kind", "metadata"} <= doc.keys(), name
            assert doc["metadata"].get("name"), name


def test_every_container_has_resources_and_the_apis_have_probes() -> None:
    for name, deployment in deployments().items():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"]:
            assert container["resources"]["requests"], name
            assert container["resources"]["limits"]["memory"], name
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"] == labels, name
    for api in ("ingestapi", "searchapi", "cdnapi"):
        container = deployments()[api]["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_the_worker_scales_on_queue_depth_and_beat_never_does() -> None:
    (hpa,) = documents()["ingestworker-hpa.yaml"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "ingestworker"
    (metric,) = hpa["spec"]["metrics"]
    assert metric["external"]["metric"]["name"] == "imagesearch_worker_queue_depth"
    worker = deployments()["ingestworker"]["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] >= 120  # a warm shutdown finishes its batch
    assert deployments()["ingestbeat"]["spec"]["replicas"] == 1


def env_of(deployment: str) -> dict[str, Any]:
    container = deployments()[deployment]["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("valueFrom", e.get("value")) for e in container.get("env", [])}


def test_every_api_gets_the_keys_and_nginx_the_signing_key() -> None:
    for api in ("ingestapi", "searchapi", "cdnapi"):
        env = env_of(api)
        prefix = api.upper()
        assert env[f"{prefix}__AUTH__API_KEYS"] == {
            "secretKeyRef": {"name": "imagesearch", "key": "API_KEYS"}
        }, api
        assert env[f"{prefix}__AUTH__URL_SIGNING_KEY"] == {
            "secretKeyRef": {"name": "imagesearch", "key": "URL_SIGNING_KEY"}
        }, api
        assert f"{prefix}__AUTH__PROTECT_READS" in env, api
    nginx = env_of("frontend")
    assert nginx["NGINX_URL_SIGNING_KEY"] == {
        "secretKeyRef": {"name": "imagesearch", "key": "URL_SIGNING_KEY"}
    }
    assert "NGINX_REAL_IP_FROM" in nginx and "NGINX_SERVER_NAMES" in nginx
