"""The worker files copies under the first image (same picture) and bursts under the first
shot (similar shot): against the index and within one chunk. Fakes for storage and index;
the real hash, keypoint matcher and decision."""

import numpy as np
from PIL import Image
from skimage import data

from shared.ids import content_id, original_key
from tests.support.images import dated_jpeg
from tests.support.worker import index_pipeline
from tests.unit.fakes import (
    ColourEmbedder,
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
)

TAKEN = 1_700_000_000


def photo(name: str) -> Image.Image:
    return Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB")


class World:
    def __init__(self) -> None:
        self.store, self.index = InMemoryObjectStore(), InMemoryVectorIndex()
        self.pipeline = index_pipeline(self.store, self.index, ColourEmbedder(), InMemoryJobStore())

    def add(self, *images: bytes) -> list[str]:
        ids = []
        for data_ in images:
            image_id = content_id(data_)
            self.store.put(original_key(image_id), data_, "image/jpeg", {})
            ids.append(image_id)
        report = self.pipeline.run(ids)
        assert sorted(report.indexed) == sorted(ids)
        return ids

    def filed(self, image_id: str) -> tuple[str, str]:
        record = self.index.records[image_id]
        return record.dup_of, record.shot_of


def copy_of(image: Image.Image) -> bytes:
    w, h = image.size
    return dated_jpeg(image.crop((w // 20, 0, w, h - h // 25)).resize((w // 2, h // 2)), quality=45)


def test_a_copy_is_filed_under_its_photo_and_a_burst_under_its_first_shot() -> None:
    world = World()
    coffee = photo("coffee")
    [first] = world.add(dated_jpeg(coffee, taken_at=TAKEN))
    w, h = coffee.size
    burst = dated_jpeg(coffee.crop((w // 4, 0, w, h)), taken_at=TAKEN + 2)
    # (the fake embedder's vectors are mean colours: close for any two photos, so only the
    # time keeps this one from being a shot of the coffee)
    other = dated_jpeg(photo("astronaut"), taken_at=TAKEN + 86_400)
    copy, shot, unrelated = world.add(copy_of(coffee), burst, other)
    assert world.filed(first) == ("", "")
    assert world.filed(copy) == (first, "")  # its EXIF date is gone: no shot of anything
    assert world.filed(shot) == ("", first)
    assert world.filed(unrelated) == ("", "")
    assert len(world.index.records[copy].phash) == 16


def test_copies_in_one_chunk_are_filed_under_the_first_of_them() -> None:
    world = World()
    chelsea = photo("chelsea")
    first, copy, other = world.add(
        dated_jpeg(chelsea), copy_of(chelsea), dated_jpeg(photo("rocket"))
    )
    assert world.filed(copy) == (first, "")
    assert world.filed(other) == ("", "")


def test_look_alikes_that_are_not_the_same_picture_stay_apart() -> None:
    """Two flat pictures whose hashes and colours agree: the keypoint match tells them apart."""
    world = World()
    a = Image.new("RGB", (640, 480), "white")
    b = a.copy()
    a.paste((220, 30, 30), (100, 100, 200, 200))
    b.paste((220, 30, 30), (400, 250, 500, 350))
    _, second = world.add(dated_jpeg(a), dated_jpeg(b))
    assert world.filed(second) == ("", "")
