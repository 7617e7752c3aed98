"""Every Celery task, run in-process against the worker's own container with fakes for the
adapters: the tasks reach their services only through the container."""

import ipaddress
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers

from ingestworker import tasks
from ingestworker.adapters.url_fetcher import UrlFetcher
from ingestworker.celery_app import container
from ingestworker.container import Container
from ingestworker.settings import IngestWorkerSettings
from shared.errors import NotFound, Unavailable
from shared.ids import content_id, original_key
from shared.netguard import FetchSettings
from shared.schemas import ImageState
from shared.storage import ObjectStore
from tests.support.images import image_bytes
from tests.support.sites import site
from tests.unit.fakes import (
    ColourEmbedder,
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    RecordingQueue,
)


class Fakes:
    def __init__(self) -> None:
        self.store = InMemoryObjectStore()
        self.jobs = InMemoryJobStore()
        self.index = InMemoryVectorIndex()
        self.queue = RecordingQueue()
        self.embedder = ColourEmbedder()

    def stored(self, *colours: str) -> list[str]:
        ids = []
        for colour in colours:
            data = image_bytes(colour)
            self.store.put(original_key(content_id(data)), data, "image/png", {"filename": colour})
            self.jobs.set_state(content_id(data), ImageState.queued)
            ids.append(content_id(data))
        return ids


def worker_settings(**sections: object) -> IngestWorkerSettings:
    storage = {"access_key": "test", "secret_key": "test"}
    return IngestWorkerSettings(storage=storage, **sections)  # type: ignore[arg-type]


def override(c: Container, fakes: Fakes, settings: IngestWorkerSettings) -> None:
    c.settings.override(providers.Object(settings))
    c.object_store.override(providers.Object(fakes.store))
    c.job_store.override(providers.Object(fakes.jobs))
    c.vector_index.override(providers.Object(fakes.index))
    c.live_index.override(providers.Object(fakes.index))
    c.task_queue.override(providers.Object(fakes.queue))
    c.embedder.override(providers.Object(fakes.embedder))


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    """The process's own container (the one the tasks use), its adapters swapped for fakes."""
    made = Fakes()
    override(container(), made, worker_settings())
    yield made
    container().reset_override()


def test_index_images_indexes_a_batch_and_fails_a_corrupt_image_alone(fakes: Fakes) -> None:
    good = fakes.stored("red", "blue")
    corrupt = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
    fakes.store.put(original_key(content_id(corrupt)), corrupt, "image/png")
    result = tasks.index_images([*good, content_id(corrupt)], job_id="job")
    assert result["indexed"] == good
    assert list(result["failed"]) == [content_id(corrupt)]
    assert set(fakes.index.records) == set(good)
    assert fakes.embedder.calls == [2]  # one forward pass for the batch
    assert fakes.jobs.state_of(good[0]) == ImageState.indexed
    assert fakes.jobs.state_of(content_id(corrupt)) == ImageState.failed


class DownStore(InMemoryObjectStore):
    def open(self, key: str, offset: int = 0, length: int | None = None) -> "ObjectStore":  # type: ignore[override]
        raise Unavailable("object storage unreachable")


def test_index_images_past_its_retries_shows_its_images_waiting_not_failed(
    fakes: Fakes,
) -> None:
    ids = fakes.stored("red")
    container().object_store.override(providers.Object(DownStore()))
    container().settings.override(providers.Object(worker_settings(tasks={"max_retries": 0})))
    with pytest.raises(Unavailable):  # outside a worker, the retry re-raises its cause
        tasks.index_images(ids, job_id="job")
    state, reason = fakes.jobs.state_and_reason(ids[0])
    assert state == ImageState.waiting
    assert reason == "waiting until it answers again: object storage unreachable"
    assert tasks.index_images.max_retries is None  # the task itself never gives up


def test_index_images_within_its_retries_leaves_its_images_for_the_retry(fakes: Fakes) -> None:
    ids = fakes.stored("red")
    container().object_store.override(providers.Object(DownStore()))
    with pytest.raises(Unavailable):  # outside a worker, a retry re-raises the cause
        tasks.index_images(ids, job_id="job")
    assert fakes.jobs.state_of(ids[0]) == ImageState.processing


def test_fetch_urls_stores_downloads_and_queues_them_in_url_ingest_batches(fakes: Fakes) -> None:
    routes = {f"/{c}.png": httpx.Response(200, content=image_bytes(c)) for c in ("red", "blue")}
    routes["/page.html"] = httpx.Response(200, content=b"<html></html>")
    routes["/huge.png"] = httpx.Response(200, content=image_bytes("red", size=(100, 100)))
    transport = site(routes, [])
    allowed = FetchSettings(allow_networks=[ipaddress.ip_network("127.0.0.2/32")], max_pixels=5000)
    container().fetcher.override(providers.Object(UrlFetcher(allowed, transport)))
    settings = worker_settings(url_ingest={"task_batch_size": 1}, fetch=allowed)
    container().settings.override(providers.Object(settings))
    items = [[f"s{n}", f"http://127.0.0.2{path}"] for n, path in enumerate(routes)]
    result = tasks.fetch_urls(items, job_id="job", details={"source": "url", "tags": ["t"]})
    assert len(result["accepted"]) == 2
    assert list(result["failed"]) == ["http://127.0.0.2/page.html", "http://127.0.0.2/huge.png"]
    # the worker's own limit, named by the worker's own key
    assert result["failed"]["http://127.0.0.2/huge.png"].endswith("(fetch.max_pixels)")
    assert [batch for batch, _ in fakes.queue.tasks] == [[i] for i in result["accepted"]]
    assert fakes.jobs.fetch_slots["s2"][0] == ImageState.failed


def test_reconcile_queues_again_what_is_stored_but_not_indexed(fakes: Fakes) -> None:
    """The beat task: the same service `uv run reconcile` runs."""
    ids = fakes.stored("red", "green", "blue")
    tasks.index_images(ids[:1])
    fakes.jobs.states.clear()  # Redis lost its state: nothing says the others are on their way
    result = tasks.reconcile()
    assert (result["stored"], result["indexed"], result["requeued"]) == (3, 1, 2)
    assert {i for batch, _ in fakes.queue.tasks for i in batch} == set(ids[1:])


def test_the_container_builds_every_service_the_tasks_and_commands_use() -> None:
    c, made = Container(), Fakes()
    override(c, made, worker_settings())
    c.fetcher.override(providers.Object(UrlFetcher(FetchSettings())))
    built = [
        c.index_pipeline(),
        c.url_download_service(),
        c.reconcile_service(),
        c.celery(),
    ]
    assert all(built)
    c.reindex_target.override(providers.Object(made.index))
    assert c.reindex_service().pending() == ([], 0)


def test_importing_the_worker_needs_no_config_and_no_server(tmp_path: Path) -> None:
    """Settings, the model and Milvus are first touched in worker_init, not at import: the
    modules import anywhere, and asking for the app without config is the one-line exit."""
    env = {"PATH": os.environ["PATH"], "IMAGESEARCH_CONF_DIR": str(tmp_path)}
    code = "import ingestworker.tasks, ingestworker.celery_app as m; print('imported'); m.app"
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert run.stdout.strip() == "imported"
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "config error in ingestworker: storage (env INGESTWORKER__STORAGE): Field required"
    ]


def test_a_missing_original_fails_its_image_with_the_reason(fakes: Fakes) -> None:
    missing = "0" * 64
    result = tasks.index_images([missing])
    assert result["failed"] == {missing: NotFound("object not found").detail}


def test_a_batch_that_crashed_the_worker_too_often_is_split_in_two(fakes: Fakes) -> None:
    ids = fakes.stored("red", "green", "blue", "white")
    fakes.jobs.deliveries["t1"] = 2  # two deliveries whose worker process died under them
    result = tasks.index_images.apply(args=[ids, "job"], task_id="t1").get()
    assert result["split"] == [ids[:2], ids[2:]]
    assert fakes.queue.tasks == [(ids[:2], "job"), (ids[2:], "job")]
    assert fakes.index.records == {}  # not run again


def test_an_image_alone_that_crashed_the_worker_fails_for_good(fakes: Fakes) -> None:
    ids = fakes.stored("red")
    fakes.jobs.deliveries["t2"] = 2
    result = tasks.index_images.apply(args=[ids, "job"], task_id="t2").get()
    assert result["failed"] == {ids[0]: "crashed the worker 2 times"}
    assert fakes.jobs.state_and_reason(ids[0]) == (ImageState.failed, "crashed the worker 2 times")
    assert fakes.queue.tasks == []


def test_a_delivery_that_ends_normally_is_not_counted_as_a_crash(fakes: Fakes) -> None:
    ids = fakes.stored("red")
    fakes.jobs.deliveries["t3"] = 1  # one crash, under the limit: run again
    tasks.index_images.apply(args=[ids, "job"], task_id="t3").get()
    assert set(fakes.index.records) == set(ids)
    assert "t3" not in fakes.jobs.deliveries
