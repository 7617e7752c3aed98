"""The fast decode path (reduced-size JPEG decode) embeds like a full decode, on real photos."""

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from skimage import data

from shared.config import EmbeddingSettings
from shared.embedding import Embedder, load_embedder
from shared.images import decode_image

PHOTOS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": data.astronaut,
    "coffee": data.coffee,
    "chelsea": data.chelsea,
    "rocket": data.rocket,
    "hubble": data.hubble_deep_field,
}


@pytest.fixture(scope="module")
def embedder(model_dir: Path) -> Embedder:
    return load_embedder(EmbeddingSettings(model=str(model_dir), device="cpu"))


def camera_jpeg(pixels: np.ndarray, megapixels: float = 12.0) -> bytes:
    """A photo upscaled to camera size and saved as a JPEG, as phones write them."""
    img = Image.fromarray(pixels).convert("RGB")
    scale = (megapixels * 1e6 / (img.width * img.height)) ** 0.5
    img = img.resize(
        (round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC
    )
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


@pytest.mark.parametrize("name", PHOTOS)
def test_reduced_decode_embeds_like_a_full_decode(embedder: Embedder, name: str) -> None:
    jpeg = camera_jpeg(PHOTOS[name]())
    fast = decode_image(jpeg)
    full = ImageOps.exif_transpose(Image.open(io.BytesIO(jpeg))).convert("RGB")
    assert fast.image.width < full.width / 3  # the draft path really decoded less
    assert (fast.width, fast.height) == full.size
    vectors = embedder.embed_images([fast.image, full])
    assert float(vectors[0] @ vectors[1]) >= 0.99
