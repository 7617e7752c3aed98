"""The dashboard and the alert rules look only at metrics the services really export: every
metric name and label they use is found in the /metrics of the running stack, after an upload
(a good image; a corrupt original the worker fails), text searches (one repeated: a cache
hit) and a similar search; and every job an alert names is a job Prometheus scrapes."""

import io
import json
import random
import re
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from imagesearch_dev.localstack import Stack
from shared.ids import content_id, original_key
from shared.queue import CeleryTaskQueue, make_celery
from shared.schemas import ImageState
from shared.state import RedisJobStore
from shared.storage import MinioObjectStore
from tests.support.images import image_bytes
from tests.support.paths import ROOT
from tests.support.polling import eventually, finished_job
from tests.support.stack import redis_settings, storage_settings

CONF = ROOT / "conf"
DASHBOARD = CONF / "grafana" / "dashboards" / "imagesearch.json"
ALERTS = CONF / "prometheus" / "alerts.yml"
SCRAPE = CONF / "prometheus" / "prometheus.yml"
# one metric selector: its name and, inside braces, label matchers
SELECTOR = re.compile(r"\b(imagesearch_[a-z0-9_]+)(?:\{([^}]*)\})?")
LABEL = re.compile(r"(\w+)\s*(?:=~|!~|!=|=)")
# Prometheus' own series, made by the scrape itself
BUILT_IN = re.compile(r"\bup\{")


def queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rules = yaml.safe_load(ALERTS.read_text())["groups"]
    return exprs + [rule["expr"] for group in rules for rule in group["rules"]]


@pytest.fixture(scope="module")
def exported(full_stack: Stack) -> dict[str, set[str]]:
    """Sample names the running services export, each with the label names seen on it."""
    full_stack.up(["worker"])
    s = full_stack.settings
    page = httpx.Client(base_url=s.url("nginx"), timeout=60)
    colour = tuple(random.randrange(256) for _ in range(3))
    files = [("files", ("good.png", image_bytes(colour), "image/png"))]
    response = page.post("/api/v1/images", files=files)
    assert response.status_code == 202, response.text
    assert finished_job(page, response.json()["job_id"])["state"] == "indexed"
    failing_image(full_stack)
    for text in ("a red square", "a red square", "two blue stars"):  # the second: a cache hit
        assert page.get("/api/v1/image/search", params={"text": text}).status_code == 200
    image_id = response.json()["items"][0]["id"]
    assert page.get(f"/api/v1/images/{image_id}/similar").status_code == 200
    assert page.get(f"/images/{image_id}/thumbnail").status_code == 200
    worker_port = full_stack.extra_env["INGESTWORKER__METRICS__PORT"]
    urls = [s.url(name) + "/metrics" for name in ("ingestapi", "searchapi", "cdnapi")]
    urls.append(f"http://{s.host}:{worker_port}/metrics")
    found: dict[str, set[str]] = {}
    for url in urls:
        text = httpx.get(url, timeout=10).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                found.setdefault(sample.name, set()).update(sample.labels)
    return found


def failing_image(stack: Stack) -> None:
    """An original the API never saw (uploads are decoded first), corrupt: the worker fails
    it, and counts the failure by its kind."""
    noise = np.random.default_rng().integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    corrupt = buffer.getvalue()[:2000]  # the pixel data cut short
    image_id = content_id(corrupt)
    store = MinioObjectStore.from_settings(storage_settings(stack, bucket="images"))
    store.put(original_key(image_id), corrupt, "image/png", {"filename": "cut.png"})
    jobs = RedisJobStore.from_url(redis_settings(stack).url)
    jobs.set_state(image_id, ImageState.queued)
    CeleryTaskQueue(make_celery("test-producer", redis_settings(stack))).enqueue_index(
        [image_id], job_id="monitoring"
    )
    eventually(lambda: jobs.state_of(image_id) == ImageState.failed, 60, "the image failing")


def test_every_metric_the_dashboard_and_alerts_use_is_exported(
    exported: dict[str, set[str]],
) -> None:
    used: dict[str, set[str]] = {}
    for expr in queries():
        for name, matchers in SELECTOR.findall(expr):
            used.setdefault(name, set()).update(LABEL.findall(matchers or ""))
    assert len(used) >= 6
    missing = {name for name in used if name not in exported}
    assert not missing, f"not exported by any service: {sorted(missing)}"
    for name, labels in used.items():
        assert labels <= exported[name], f"{name}: labels {labels - exported[name]} unknown"
    # the aggregations' "by (...)" labels exist too
    for expr in queries():
        for group in re.findall(r"by \(([^)]*)\)", expr):
            for label in (g.strip() for g in group.split(",")):
                if label != "le":
                    assert any(label in exported[n] for n in used), (label, expr)


def test_every_alert_names_a_job_prometheus_scrapes() -> None:
    jobs = {c["job_name"] for c in yaml.safe_load(SCRAPE.read_text())["scrape_configs"]}
    assert jobs == {"ingestapi", "searchapi", "cdnapi", "ingestworker"}
    for expr in queries():
        if BUILT_IN.search(expr):
            for named in re.findall(r'job=~?"([^"]+)"', expr):
                assert set(named.split("|")) <= jobs, expr


def test_failures_are_counted_by_reason(exported: dict[str, Any]) -> None:
    assert "reason" in exported["imagesearch_worker_images_total"]
