from collections.abc import Sequence

import numpy as np
from PIL import Image

from ingestworker.stages import BatchOutcome, Embed, PreparedImage
from shared.embedding import Vectors
from shared.images import DecodedImage
from shared.schemas import ImageState
from tests.unit.fakes import ColourEmbedder, InMemoryJobStore


def prepared(name: str, colour: tuple[int, int, int]) -> PreparedImage:
    image = Image.new("RGB", (8, 8), colour)
    decoded = DecodedImage(image, 8, 8, "image/png")
    return PreparedImage(name, decoded, 10, f"{name}.png", 0, "", "", [])


class PickyEmbedder(ColourEmbedder):
    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        if any(img.getpixel((0, 0)) == (0, 128, 0) for img in images):
            self.calls.append(-len(images))
            raise ValueError("the model cannot take this input")
        return super().embed_images(images)


def test_a_chunk_is_one_forward_pass_in_order() -> None:
    embedder, outcome = ColourEmbedder(), BatchOutcome(InMemoryJobStore())
    rows = Embed(embedder)([prepared("r", (255, 0, 0)), prepared("b", (0, 0, 255))], outcome)
    assert [row.image_id for row in rows] == ["r", "b"]
    assert np.allclose(rows[0].vector, [1, 0, 0])
    assert (embedder.calls, outcome.forward_passes) == ([2], 1)


def test_a_chunk_the_model_rejects_is_halved_until_the_culprit_is_alone() -> None:
    states = InMemoryJobStore()
    embedder, outcome = PickyEmbedder(), BatchOutcome(states)
    images = [prepared(f"i{n}", (n * 20, 0, 200)) for n in range(3)]
    images.insert(1, prepared("poison", (0, 128, 0)))
    rows = Embed(embedder)(images, outcome)
    assert [row.image_id for row in rows] == ["i0", "i1", "i2"]
    assert outcome.failed == {"poison": "ValueError: the model cannot take this input"}
    assert states.state_of("poison") == ImageState.failed
    assert embedder.calls[0] == -4


def test_nothing_to_embed_runs_no_forward_pass() -> None:
    embedder, outcome = ColourEmbedder(), BatchOutcome(InMemoryJobStore())
    assert Embed(embedder)([], outcome) == []
    assert (embedder.calls, outcome.forward_passes) == ([], 0)
