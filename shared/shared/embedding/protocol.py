from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    model_id: str
    dim: int
    device: str

    def info(self) -> dict[str, object]:
        """Model id(s), dimension, device and dtype, for health and logs."""
        ...

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        """L2-normalized vectors, one row per image."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        """L2-normalized vectors, one row per text, in the images' space."""
        ...
