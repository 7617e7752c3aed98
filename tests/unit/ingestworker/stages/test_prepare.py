import io

import pytest
from PIL import Image

from ingestworker.stages import BatchOutcome, Prepare
from shared.errors import Unavailable
from shared.ids import content_id, original_key, preview_key, thumbnail_key
from shared.schemas import ImageState
from shared.storage import StoredObject
from tests.support.images import image_bytes
from tests.unit.fakes import InMemoryJobStore, InMemoryObjectStore


def stored(store: InMemoryObjectStore, data: bytes) -> str:
    store.put(original_key(content_id(data)), data, "image/png", {"filename": "a.png"})
    return content_id(data)


def test_an_image_is_decoded_copied_and_fingerprinted() -> None:
    store, states = InMemoryObjectStore(), InMemoryJobStore()
    image_id = stored(store, image_bytes("red", size=(2000, 1000)))
    outcome = BatchOutcome(states)
    prepared = Prepare(store, states, thumbnail_px=64, preview_px=512)(image_id, outcome)
    assert prepared is not None
    assert (prepared.filename, prepared.decoded.width, prepared.decoded.height) == (
        "a.png",
        2000,
        1000,
    )
    # past the copies only what the model reads is kept: a whole-factor reduction
    assert prepared.decoded.image.size == (1000, 500)
    assert len(prepared.phash) == 16 and prepared.keypoints is not None
    thumbnail = Image.open(io.BytesIO(store.objects[thumbnail_key(image_id)][0]))
    assert thumbnail.size == (64, 32)
    assert preview_key(image_id) in store.objects
    assert states.state_of(image_id) == ImageState.processing
    assert outcome.failed == {}


def test_a_corrupt_image_fails_alone_with_its_reason() -> None:
    store, states = InMemoryObjectStore(), InMemoryJobStore()
    image_id = stored(store, image_bytes("red", size=(300, 300))[:200])
    outcome = BatchOutcome(states)
    assert Prepare(store, states)(image_id, outcome) is None
    assert "corrupt" in outcome.failed[image_id]
    assert states.state_of(image_id) == ImageState.failed


def test_an_image_deleted_since_it_was_queued_is_left_alone() -> None:
    store, states = InMemoryObjectStore(), InMemoryJobStore()
    image_id = stored(store, image_bytes("red"))
    states.mark_deleted([image_id])
    outcome = BatchOutcome(states)
    assert Prepare(store, states)(image_id, outcome) is None
    assert thumbnail_key(image_id) not in store.objects
    assert outcome.failed == {}


class DownStore(InMemoryObjectStore):
    def open(self, key: str, offset: int = 0, length: int | None = None) -> StoredObject:
        raise Unavailable("object storage unreachable")


def test_an_outage_is_raised_not_recorded_as_a_failure() -> None:
    states = InMemoryJobStore()
    outcome = BatchOutcome(states)
    with pytest.raises(Unavailable):
        Prepare(DownStore(), states)("0" * 64, outcome)
    assert outcome.failed == {}
