"""The worker's own composition root (its container) over adapters a test chooses."""

from collections.abc import Callable
from typing import Any

from dependency_injector import providers

from ingestworker.container import Container
from ingestworker.service.pipeline import IndexPipeline
from ingestworker.settings import IngestWorkerSettings
from shared.embedding import Embedder
from shared.images import DecodedImage
from shared.queue import TaskQueue
from shared.state import ImageStates
from shared.storage import ObjectStore
from shared.vectors import VectorIndex
from tests.unit.fakes import InMemoryJobStore, RecordingDeliveries, RecordingQueue


def worker_settings(**sections: Any) -> IngestWorkerSettings:
    storage = {"access_key": "test", "secret_key": "test"}
    return IngestWorkerSettings(storage=storage, **sections)


def index_pipeline(
    store: ObjectStore,
    index: VectorIndex,
    embedder: Embedder,
    states: ImageStates,
    decode: Callable[..., DecodedImage] | None = None,
    queue: TaskQueue | None = None,
    deliveries: RecordingDeliveries | None = None,
    **sections: Any,
) -> IndexPipeline:
    """The pipeline the worker runs, with its stages as the container builds them; what it
    queues for enrichment goes to ``queue``, its webhook deliveries to ``deliveries``
    (recording ones by default)."""
    c = Container()
    c.settings.override(providers.Object(worker_settings(**sections)))
    c.object_store.override(providers.Object(store))
    c.vector_index.override(providers.Object(index))
    c.embedder.override(providers.Object(embedder))
    c.job_store.override(providers.Object(states))
    c.task_queue.override(providers.Object(queue or RecordingQueue()))
    c.webhooks.deliveries.override(providers.Object(deliveries or RecordingDeliveries()))
    c.enrich_backlog.override(
        providers.Object(states if hasattr(states, "add_to_enrich") else InMemoryJobStore())
    )
    if decode is not None:
        c.decoder.override(providers.Object(decode))
    return c.index_pipeline()
