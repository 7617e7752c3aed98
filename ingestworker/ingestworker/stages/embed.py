"""Embed: one forward pass of the image tower for a chunk of prepared images."""

from collections.abc import Sequence

from ingestworker.stages.batch import BatchOutcome, PreparedImage, Row
from shared.embedding import Embedder
from shared.errors import Unavailable


class Embed:
    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, images: list[PreparedImage], outcome: BatchOutcome) -> list[Row]:
        """One forward pass for the chunk; a chunk the model rejects is halved until each image
        it rejects is alone (and fails)."""
        if not images:
            return []
        try:
            outcome.forward_passes += 1
            vectors = self._embedder.embed_images([image.decoded.image for image in images])
            rows: list[Sequence[float]] = vectors.tolist()
            return [Row(image, vector) for image, vector in zip(images, rows, strict=True)]
        except Unavailable:
            raise
        except Exception as exc:
            if len(images) == 1:
                outcome.fail(images[0].image_id, exc)
                return []
            half = len(images) // 2
            return self(images[:half], outcome) + self(images[half:], outcome)
