"""Distinct camera-sized JPEGs made from scikit-image's bundled real photos."""

import io

import numpy as np
from PIL import Image, ImageEnhance
from skimage import data

SOURCES = [data.astronaut, data.coffee, data.chelsea, data.rocket]


def camera_jpegs(count: int, megapixels: float, quality: int = 90, seed: int = 0) -> list[bytes]:
    """``count`` JPEGs of about ``megapixels``, all different (each its own content id)."""
    out = []
    for i in range(count):
        img = Image.fromarray(np.asarray(SOURCES[i % len(SOURCES)]())).convert("RGB")
        scale = (megapixels * 1e6 / (img.width * img.height)) ** 0.5
        img = img.resize((round(img.width * scale), round(img.height * scale)))
        img = ImageEnhance.Brightness(img).enhance(0.7 + 0.6 * i / count)
        # a seed-dependent corner mark keeps sets made with different seeds apart
        img.paste((seed * 53 % 256, i % 256, i // 256 % 256), (0, 0, 4, 4))
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=quality)
        out.append(buf.getvalue())
    return out
