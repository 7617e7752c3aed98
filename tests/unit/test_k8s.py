"""The Kubernetes manifests (docker/k8s), checked for structure: no cluster here, and no
kubeconform or helm to install."""

import yaml

from tests.support.deployment import K8S, auth_services, k8s_deployments, k8s_documents, k8s_env


def test_every_manifest_is_listed_and_well_formed() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(k8s_documents())
    for name, docs in k8s_documents().items():
        for doc in docs:
            assert {"apiVersion", "kind", "metadata"} <= doc.keys(), name
            assert doc["metadata"].get("name"), name


def test_every_container_has_resources_and_the_apis_have_probes() -> None:
    for name, deployment in k8s_deployments().items():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"]:
            assert container["resources"]["requests"], name
            assert container["resources"]["limits"]["memory"], name
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"] == labels, name
    for api in ("ingestapi", "searchapi", "cdnapi"):
        container = k8s_deployments()[api]["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_the_worker_scales_on_queue_depth_and_beat_never_does() -> None:
    (hpa,) = k8s_documents()["ingestworker-hpa.yaml"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "ingestworker"
    (metric,) = hpa["spec"]["metrics"]
    assert metric["external"]["metric"]["name"] == "imagesearch_worker_queue_depth"
    worker = k8s_deployments()["ingestworker"]["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] >= 120  # a warm shutdown finishes its batch
    assert k8s_deployments()["ingestbeat"]["spec"]["replicas"] == 1


def test_every_api_gets_the_keys_and_nginx_the_signing_key() -> None:
    assert auth_services() == ["ingestapi", "searchapi", "cdnapi"]
    for api in auth_services():
        env = k8s_env(api)
        prefix = api.upper()
        assert env[f"{prefix}__AUTH__API_KEYS"] == {
            "secretKeyRef": {"name": "imagesearch", "key": "API_KEYS"}
        }, api
        assert env[f"{prefix}__AUTH__URL_SIGNING_KEY"] == {
            "secretKeyRef": {"name": "imagesearch", "key": "URL_SIGNING_KEY"}
        }, api
        assert f"{prefix}__AUTH__PROTECT_READS" in env, api
    nginx = k8s_env("frontend")
    assert nginx["URL_SIGNING_KEY"] == {
        "secretKeyRef": {"name": "imagesearch", "key": "URL_SIGNING_KEY"}
    }
    # one key decides for the APIs and nginx alike: nothing to drift apart
    for name in ["frontend", *auth_services()]:
        env = k8s_env(name)
        (reads,) = [value for key, value in env.items() if key.endswith("PROTECT_READS")]
        assert reads == {"configMapKeyRef": {"name": "imagesearch", "key": "PROTECT_READS"}}
    assert "NGINX_PROTECT_READS" not in (K8S / "config.yaml").read_text()
    assert nginx["IMAGESEARCH_READS_CHECK_URL"] == "http://cdnapi:8000/readyz"
    assert "NGINX_REAL_IP_FROM" in nginx and "NGINX_SERVER_NAMES" in nginx


def test_only_ingestapi_reaches_the_cache_refresh_listener() -> None:
    (policy,) = [doc for doc in k8s_documents()["frontend.yaml"] if doc["kind"] == "NetworkPolicy"]
    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"] == {"app": "frontend"}
    assert spec["policyTypes"] == ["Ingress"]
    by_port = {rule["ports"][0]["port"]: rule.get("from") for rule in spec["ingress"]}
    assert by_port[80] is None  # the site: from anywhere (the Ingress controller)
    assert by_port[8081] == [{"podSelector": {"matchLabels": {"app": "ingestapi"}}}]
    assert all(len(rule["ports"]) == 1 for rule in spec["ingress"])
    frontend = k8s_env("frontend")
    assert frontend["NGINX_REFRESH_HOST"] == "frontend-cache"
    assert k8s_env("ingestapi")["INGESTAPI__CACHE__TARGETS"] == '["http://frontend-cache:8081"]'
