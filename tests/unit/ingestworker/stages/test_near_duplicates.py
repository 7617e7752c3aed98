"""Filing rows into duplicate groups, and the keypoint matcher it uses; real hashes and
OpenCV, fakes for storage and the index."""

import io
import threading

import numpy as np
from PIL import Image
from skimage import data

from ingestworker.settings import DuplicateSettings
from ingestworker.stages import BatchOutcome, FileDuplicates, PreparedImage, Row
from ingestworker.stages.near_duplicates import keypoints, match, perceptual_hash
from shared.images import DecodedImage
from tests.unit.fakes import InMemoryJobStore, InMemoryObjectStore, InMemoryVectorIndex


def photo(name: str) -> Image.Image:
    return Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB").resize((256, 256))


def reencoded(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def row(name: str, image: Image.Image, vector: list[float], taken_at: int | None = None) -> Row:
    decoded = DecodedImage(image, *image.size, "image/jpeg", taken_at=taken_at)
    prepared = PreparedImage(
        name, decoded, 1, name, 0, "", "", [], perceptual_hash(image), keypoints(image)
    )
    return Row(prepared, vector)


def file(rows: list[Row]) -> dict[str, tuple[str, str]]:
    stage = FileDuplicates(InMemoryVectorIndex(), InMemoryObjectStore(), DuplicateSettings())
    filed = stage(rows, BatchOutcome(InMemoryJobStore()))
    return {r.image_id: (r.dup_of, r.shot_of) for r in filed}


def test_a_copy_in_the_same_chunk_is_filed_under_the_first_and_a_burst_as_a_shot() -> None:
    astronaut, coffee = photo("astronaut"), photo("coffee")
    filed = file(
        [
            row("first", astronaut, [1, 0, 0], taken_at=100),
            row("copy", reencoded(astronaut, 40), [1, 0, 0], taken_at=None),
            row("other", coffee, [0.9, 0.436, 0], taken_at=130),
        ]
    )
    assert filed["first"] == ("", "")
    assert filed["copy"][0] == "first"
    assert filed["other"] == ("", "first")  # close vector, taken 30 s later: a similar shot


def test_keypoints_found_on_many_threads_match_those_found_on_one() -> None:
    images = [photo(name) for name in ("astronaut", "coffee", "chelsea", "rocket")] * 4
    alone = [keypoints(image) for image in images]
    together: list[object] = [None] * len(images)

    def describe(n: int) -> None:
        together[n] = keypoints(images[n])

    threads = [threading.Thread(target=describe, args=(n,)) for n in range(len(images))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for mine, theirs in zip(alone, together, strict=True):
        assert isinstance(theirs, type(mine))
        assert np.array_equal(mine.points, theirs.points)
    assert match(alone[0], together[0]).matches >= 20  # type: ignore[arg-type]
