"""Decoding for the model: EXIF orientation applied, reduced-size JPEG decode, RGB."""

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from shared.errors import Unprocessable, UnsupportedMediaType
from shared.images.exif import camera, taken_at
from shared.images.formats import CONTENT_TYPES, DECODE_MIN_SIDE, upright_size

_SIXTEEN_BIT = {"I;16", "I;16B", "I;16L", "I"}


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image
    width: int
    height: int
    content_type: str
    taken_at: int | None = None  # EXIF DateTimeOriginal, epoch seconds
    camera: str = ""


def decode_image(data: bytes, target: int = DECODE_MIN_SIDE, long_side: int = 0) -> DecodedImage:
    """Decode to RGB at no less than ``target`` px on the short side and ``long_side`` px on
    the long side (unless the original is smaller), upright per EXIF.

    width/height are those of the original, upright.
    """
    try:
        img = Image.open(io.BytesIO(data))
        fmt = img.format or ""
        if fmt not in CONTENT_TYPES:
            raise UnsupportedMediaType(f"unsupported image format {fmt or 'unknown'}")
        width, height = upright_size(img, *img.size)
        shot_at, shot_with = taken_at(img), camera(img)
        if fmt == "JPEG":
            # draft decode (JPEG DCT scaling): a fraction of the work of a full decode
            img.draft("RGB", _draft_box(img.size, target, long_side))
        upright = _to_rgb(ImageOps.exif_transpose(img))
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise UnsupportedMediaType("not an image in a supported format") from exc
    except OSError as exc:
        raise Unprocessable(f"corrupt or truncated image: {exc}") from exc
    return DecodedImage(upright, width, height, CONTENT_TYPES[fmt], shot_at, shot_with)


def _draft_box(size: tuple[int, int], short_side: int, long_side: int) -> tuple[int, int]:
    width, height = size
    scale = max(short_side / min(width, height), long_side / max(width, height))
    return math.ceil(width * scale), math.ceil(height * scale)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in _SIXTEEN_BIT:
        # 16-bit greyscale: keep the top 8 bits (a plain convert would clip to white)
        return img.point(lambda v: v / 256).convert("L").convert("RGB")
    return img.convert("RGB")
