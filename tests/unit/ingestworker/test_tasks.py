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
from celery_batches import SimpleRequest
from dependency_injector import providers

from ingestworker import tasks
from ingestworker.adapters.url_fetcher import UrlFetcher
from ingestworker.celery_app import container
from ingestworker.container import Container
from ingestworker.settings import IngestWorkerSettings
from shared.errors import NotFound, Unavailable
from shared.ids import content_id, original_key
from shared.netguard import FetchSettings
from shared.queue import INDEX_IMAGES
from shared.schemas import ImageState
from shared.storage import ObjectStore
from tests.support.images import image_bytes
from tests.support.sites import site
from tests.support.worker import worker_settings
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


def queued(task_id: str, image_ids: list[str], job_id: str = "job") -> SimpleRequest:
    """An index task as the worker's main process hands it to a child."""
    kwargs = {"image_ids": image_ids, "job_id": job_id}
    return SimpleRequest(task_id, INDEX_IMAGES, (), kwargs, {}, "test", False, None, None, {})


def test_index_images_gathers_tasks_into_one_forward_pass_and_fails_a_corrupt_image_alone(
    fakes: Fakes,
) -> None:
    red, blue, green = fakes.stored("red", "blue", "green")
    corrupt = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
    fakes.store.put(original_key(content_id(corrupt)), corrupt, "image/png")
    requests = [
        queued("t1", [red]),
        queued("t2", [blue, content_id(corrupt)]),
        queued("t3", [green]),
    ]
    result = tasks.index_images(requests)
    assert result.index.indexed == [red, blue, green]
    assert list(result.index.failed) == [content_id(corrupt)]
    assert result.retry_in_s == {}
    assert fakes.embedder.calls == [3]  # one forward pass for three tasks
    assert fakes.jobs.state_of(red) == ImageState.indexed
    assert fakes.jobs.state_of(content_id(corrupt)) == ImageState.failed
    assert fakes.jobs.deliveries == {}  # every delivery ended


def test_an_image_in_two_gathered_tasks_is_indexed_once(fakes: Fakes) -> None:
    red, blue = fakes.stored("red", "blue")
    result = tasks.index_images([queued("t1", [red, blue]), queued("t2", [blue])])
    assert result.index.indexed == [red, blue]
    assert fakes.embedder.calls == [2]


def test_index_images_runs_through_the_eager_path_as_one_task(fakes: Fakes) -> None:
    ids = fakes.stored("red", "blue")
    result = tasks.index_images.apply(args=[ids, "job"], task_id="t1").get()
    assert result.index.indexed == ids


class DownStore(InMemoryObjectStore):
    def open(self, key: str, offset: int = 0, length: int | None = None) -> "ObjectStore":  # type: ignore[override]
        raise Unavailable("object storage unreachable")


def test_an_outage_sends_every_gathered_task_back_with_its_own_wait(fakes: Fakes) -> None:
    red, blue = fakes.stored("red", "blue")
    container().object_store.override(providers.Object(DownStore()))
    result = tasks.index_images([queued("t1", [red]), queued("t2", [blue])], {"t2": 3})
    assert result.retry_in_s == {"t1": 1.0, "t2": 8.0}  # doubling waits per task
    assert result.index.indexed == []
    # within its retries an image stays where it was, for the retry
    assert fakes.jobs.state_of(red) in (ImageState.queued, ImageState.processing)
    assert fakes.jobs.deliveries == {}


def test_a_task_past_its_retries_shows_its_images_waiting_not_failed(fakes: Fakes) -> None:
    red, blue = fakes.stored("red", "blue")
    container().object_store.override(providers.Object(DownStore()))
    settings = worker_settings(tasks={"max_retries": 2, "max_backoff_s": 5})
    container().settings.override(providers.Object(settings))
    result = tasks.index_images([queued("t1", [red]), queued("t2", [blue])], {"t1": 2})
    assert result.retry_in_s == {"t1": 4.0, "t2": 1.0}  # it never gives up
    assert fakes.jobs.state_and_reason(red) == (
        ImageState.waiting,
        "waiting until it answers again: object storage unreachable",
    )
    assert fakes.jobs.state_of(blue) in (ImageState.queued, ImageState.processing)  # within its own


def test_a_task_whose_gathered_batch_crashed_the_worker_goes_on_alone(fakes: Fakes) -> None:
    red, blue, green = fakes.stored("red", "blue", "green")
    fakes.jobs.deliveries["t2"] = 1  # its last delivery never finished: its child died
    result = tasks.index_images([queued("t1", [red]), queued("t2", [blue, green], "j2")])
    assert result.isolated == ["t2"]
    assert fakes.queue.isolated == [([blue, green], "j2")]
    assert result.index.indexed == [red]  # the others are not held back
    assert fakes.jobs.deliveries == {}


def test_index_isolated_indexes_a_batch(fakes: Fakes) -> None:
    ids = fakes.stored("red", "blue")
    result = tasks.index_isolated(ids, job_id="job")
    assert result["indexed"] == ids
    assert fakes.embedder.calls == [2]


def test_index_isolated_past_its_retries_shows_its_images_waiting_not_failed(
    fakes: Fakes,
) -> None:
    ids = fakes.stored("red")
    container().object_store.override(providers.Object(DownStore()))
    container().settings.override(providers.Object(worker_settings(tasks={"max_retries": 0})))
    with pytest.raises(Unavailable):  # outside a worker, the retry re-raises its cause
        tasks.index_isolated(ids, job_id="job")
    state, reason = fakes.jobs.state_and_reason(ids[0])
    assert state == ImageState.waiting
    assert reason == "waiting until it answers again: object storage unreachable"
    assert tasks.index_isolated.max_retries is None  # the task itself never gives up


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
    tasks.index_images([queued("t1", ids[:1])])
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
        c.gathered_indexing(),
        c.isolated_indexing(),
        c.gathering(),
        c.retry_policy(),
        c.worker_metrics(),
        c.url_download_service(),
        c.reconcile_service(),
        c.celery(),
    ]
    assert all(built)
    c.reindex_target.override(providers.Object(made.index))
    assert c.reindex_pipeline()
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
    result = tasks.index_images([queued("t1", [missing])])
    assert result.index.failed == {missing: NotFound("object not found").detail}


def test_a_batch_that_crashed_the_worker_too_often_is_split_in_two(fakes: Fakes) -> None:
    ids = fakes.stored("red", "green", "blue", "white")
    fakes.jobs.deliveries["t1"] = 2  # two deliveries whose worker process died under them
    result = tasks.index_isolated.apply(args=[ids, "job"], task_id="t1").get()
    assert result["split"] == [ids[:2], ids[2:]]
    assert fakes.queue.isolated == [(ids[:2], "job"), (ids[2:], "job")]  # never gathered again
    assert fakes.index.records == {}  # not run again


def test_an_image_alone_that_crashed_the_worker_fails_for_good(fakes: Fakes) -> None:
    ids = fakes.stored("red")
    fakes.jobs.deliveries["t2"] = 2
    result = tasks.index_isolated.apply(args=[ids, "job"], task_id="t2").get()
    assert result["failed"] == {ids[0]: "crashed the worker 2 times"}
    assert fakes.jobs.state_and_reason(ids[0]) == (ImageState.failed, "crashed the worker 2 times")
    assert fakes.queue.tasks == fakes.queue.isolated == []


def test_a_delivery_that_ends_normally_is_not_counted_as_a_crash(fakes: Fakes) -> None:
    ids = fakes.stored("red")
    fakes.jobs.deliveries["t3"] = 1  # one crash, under the limit: run again
    tasks.index_isolated.apply(args=[ids, "job"], task_id="t3").get()
    assert set(fakes.index.records) == set(ids)
    assert "t3" not in fakes.jobs.deliveries


class DownEnrichment:
    def run(self, *args: object) -> None:
        raise Unavailable("milvus unreachable")


def test_an_enrichment_outage_retries_with_the_one_retry_policys_waits(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Doubling waits capped at tasks.max_backoff_s, which the settings keep below the broker's
    visibility timeout (a retry is held that long before it runs)."""
    container().settings.override(providers.Object(worker_settings(tasks={"max_backoff_s": 5})))
    container().enrichment_service.override(providers.Object(DownEnrichment()))
    waits: list[float] = []

    def retry(**options: object) -> Exception:
        waits.append(float(options["countdown"]))  # type: ignore[arg-type]
        return RuntimeError("retried")

    monkeypatch.setattr(tasks.enrich_images, "retry", retry)
    for retries in (0, 2, 9):
        tasks.enrich_images.push_request(retries=retries)
        try:
            with pytest.raises(RuntimeError, match="retried"):
                tasks.enrich_images.run(["a" * 64])
        finally:
            tasks.enrich_images.pop_request()
    assert waits == [1.0, 4.0, 5.0]
