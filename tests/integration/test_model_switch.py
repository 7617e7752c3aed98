"""`make up MODEL=…` on a stack of its own: a model given by its Hugging Face id, found in the
hub cache's layout (models--org--name/snapshots/<rev>, refs/main) with the network off, is
the model of every service that embeds: the worker indexes with it, searchapi answers with it
and says so. A stack running one model refuses to start parts with another."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from imagesearch_dev.localstack.processes import StackError
from imagesearch_dev.localstack.stack import EMBEDDING_SERVICES
from tests.support.images import image_bytes
from tests.support.paths import MODEL_DIR, ROOT
from tests.support.polling import finished_job
from tests.support.stack import own_stack_settings

HUB_ID = "imagesearch-test/tiny-clip"
REVISION = "0123456789abcdef0123456789abcdef01234567"


def hub_cache_with_the_offline_model(cache: Path) -> None:
    """The offline model as the hub's cache would hold it after a download."""
    repo = cache / ("models--" + HUB_ID.replace("/", "--"))
    snapshot = repo / "snapshots" / REVISION
    shutil.copytree(MODEL_DIR, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)


@pytest.fixture(scope="module")
def switched() -> Iterator[Stack]:
    run_dir = ROOT / ".run" / "test-model-switch"
    settings = own_stack_settings(run_dir, model=HUB_ID)
    cache = run_dir / "hub"
    hub_cache_with_the_offline_model(cache)
    stack = Stack(
        settings,
        extra_env={
            "HF_HUB_CACHE": str(cache),
            "HF_HUB_OFFLINE": "1",  # no network: the cache or nothing
            "INGESTAPI__RATE_LIMIT__ENABLED": "false",
        },
    )
    try:
        stack.up(["redis", "s3", "milvus", "worker", "ingestapi", "searchapi"])
        yield stack
    finally:
        stack.down()


def test_every_service_that_embeds_is_given_the_stacks_model() -> None:
    env = Stack(own_stack_settings(ROOT / ".run" / "test-model-env", model="org/m")).service_env()
    assert {env[f"{svc}__EMBEDDING__MODEL"] for svc in EMBEDDING_SERVICES} == {"org/m"}
    plain = Stack(own_stack_settings(ROOT / ".run" / "test-model-env")).service_env()
    assert not any(key.endswith("__EMBEDDING__MODEL") for key in plain)  # their conf's


def test_a_hub_id_in_the_cache_is_the_model_that_indexes_and_answers(switched: Stack) -> None:
    with httpx.Client(timeout=60) as client:
        model = client.get(f"{switched.settings.url('searchapi')}/api/v1/model").json()
        assert model["model"] == HUB_ID and model["dim"] == 128
        assert "coloured shapes" in model["knows"]  # its card, read from the cache
        ingest = switched.settings.url("ingestapi")
        data = image_bytes((140, 50, 170), size=(64, 64))
        response = client.post(
            f"{ingest}/api/v1/images", files=[("files", ("purple.png", data, "image/png"))]
        )
        assert response.status_code == 202, response.text
        job = finished_job(httpx.Client(base_url=ingest, timeout=60), response.json()["job_id"])
        assert job["state"] == "indexed"
        found = client.get(
            f"{switched.settings.url('searchapi')}/api/v1/image/search", params={"text": "purple"}
        ).json()
        assert [item["id"] for item in found["items"]] == [response.json()["items"][0]["id"]]
    stats = httpx.get(f"{switched.settings.url('ingestapi')}/api/v1/stats", timeout=30).json()
    assert HUB_ID in str(stats)


def test_a_running_stack_refuses_parts_started_with_another_model(switched: Stack) -> None:
    other = Stack(switched.settings.model_copy(update={"model": "another/model"}))
    with pytest.raises(StackError, match="runs model imagesearch-test/tiny-clip"):
        other.up(["cdnapi"])
