"""A delete that lands while the worker holds the image: whatever the worker already wrote or
writes after it (row, smaller copies, state), nothing of the image is left once both are done.
Real Redis, S3 server and Milvus; the delete runs inside the pipeline's own steps."""

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from PIL import Image

from imagesearch_dev.localstack import Stack
from ingestapi.service import DeletionService
from shared.embedding import Vectors
from shared.ids import content_id, derived_keys, original_key
from shared.images import DecodedImage, decode_image
from shared.schemas import ImageState
from shared.state import RedisJobStore
from shared.storage import MinioObjectStore
from shared.vectors import LiveIndex, MilvusVectorIndex
from tests.support.images import image_bytes
from tests.support.stack import milvus_settings, redis_settings, storage_settings
from tests.support.worker import index_pipeline
from tests.unit.fakes import ColourEmbedder


class NoCache:
    def forget(self, image_ids: Sequence[str]) -> None:
        pass


class Parts:
    def __init__(self, stack: Stack) -> None:
        settings = milvus_settings(stack)
        self.store = MinioObjectStore.from_settings(storage_settings(stack))
        self.store.ensure_bucket()
        self.jobs = RedisJobStore.from_url(redis_settings(stack).url)
        self.index = MilvusVectorIndex.connect(settings, "org/colours", 3)
        self.index.attach()
        self.deletion = DeletionService(
            self.store, self.jobs, LiveIndex.connect(settings), NoCache()
        )
        self.ids: list[str] = []
        for n in range(3):
            data = image_bytes(tuple(uuid.uuid4().bytes[:3]), size=(96 + n, 64), fmt="JPEG")
            image_id = content_id(data)
            self.store.put(original_key(image_id), data, "image/jpeg")
            self.jobs.set_stored(image_id)
            self.ids.append(image_id)

    def left_of(self, image_id: str) -> list[str]:
        keys = [original_key(image_id), *derived_keys(image_id)]
        rows = ["row"] if self.index.get([image_id]) else []
        return rows + [key for key in keys if self.store.exists(key)]


class DeletingEmbedder(ColourEmbedder):
    """Deletes an image while the model runs on its chunk: after its copies were written,
    before its row is."""

    def __init__(self, on_embed: Callable[[], None]) -> None:
        super().__init__()
        self._on_embed = on_embed

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        self._on_embed()
        vectors: Vectors = np.asarray(super().embed_images(images))
        return vectors


@pytest.mark.parametrize("moment", ["while_decoding", "while_embedding"])
def test_an_image_deleted_while_indexed_is_not_written_back(infra: Stack, moment: str) -> None:
    parts = Parts(infra)
    victim = parts.ids[1]

    def delete_victim() -> None:
        assert parts.deletion.delete([victim]).items[0].status == "deleted"

    def decode(data: bytes, **kwargs: Any) -> DecodedImage:
        if content_id(data) == victim:
            delete_victim()
        return decode_image(data, **kwargs)

    embedder = DeletingEmbedder(delete_victim if moment == "while_embedding" else lambda: None)
    pipeline = index_pipeline(
        parts.store,
        parts.index,
        embedder,
        parts.jobs,
        decode=decode if moment == "while_decoding" else decode_image,
        batching={"prepare_threads": 1},
    )
    report = pipeline.run(parts.ids)

    assert sorted(report.indexed) == sorted([parts.ids[0], parts.ids[2]])
    assert parts.left_of(victim) == []
    assert parts.jobs.state_of(victim) == ImageState.deleted
    for kept in (parts.ids[0], parts.ids[2]):
        assert parts.jobs.state_of(kept) == ImageState.indexed
        assert len(parts.left_of(kept)) == 4  # row, original and both copies


def test_a_task_for_a_deleted_image_does_nothing(infra: Stack) -> None:
    parts = Parts(infra)
    parts.deletion.delete(parts.ids[:1])
    report = index_pipeline(parts.store, parts.index, ColourEmbedder(), parts.jobs).run(parts.ids)
    assert sorted(report.indexed) == sorted(parts.ids[1:])
    assert report.failed == {}
    assert parts.left_of(parts.ids[0]) == []
    assert parts.jobs.state_of(parts.ids[0]) == ImageState.deleted
