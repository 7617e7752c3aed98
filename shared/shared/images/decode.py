"""The one decode every door uses (upload validation, the worker, search by image, on-demand
thumbnails): what the bytes are (never the file name), whether they decode in full, and an
upright RGB image for the model, at reduced size for JPEG.

Anything a decoder raises for one file becomes a 4xx for that file: not a supported image 415,
too many pixels 413, a supported format that does not decode 422. So what the API accepts, the
worker can index.
"""

import io
import math
from contextlib import nullcontext
from dataclasses import dataclass
from typing import cast

from PIL import Image, ImageOps, UnidentifiedImageError

from shared.config import Limit
from shared.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType, reason_of
from shared.images.budget import PixelBudget
from shared.images.exif import camera, gps, rotated_90, taken_at
from shared.images.formats import CONTENT_TYPES, DECODE_MIN_SIDE, SUPPORTED, signature

_SIXTEEN_BIT_RAW = {"I;16": "I;16", "I;16L": "I;16", "I;16B": "I;16B", "I;16N": "I;16N"}
_ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}
_JPEG_FAMILY = {"JPEG", "MPO"}


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # RGB, upright
    width: int  # of the original, upright
    height: int
    content_type: str
    taken_at: int | None = None  # EXIF DateTimeOriginal, epoch seconds
    camera: str = ""
    gps: tuple[float, float] | None = None  # EXIF (latitude, longitude), degrees


def decode_image(
    data: bytes,
    max_pixels: Limit | None = None,
    target: int = DECODE_MIN_SIDE,
    long_side: int = 0,
    max_decoded_pixels: Limit | None = None,
    budget: PixelBudget | None = None,
) -> DecodedImage:
    """Decode to RGB at no less than ``target`` px on the short side and ``long_side`` px on
    the long side (unless the original is smaller), upright per EXIF; the first frame of an
    animation or a multi-page file. ``max_pixels`` limits the image's own size,
    ``max_decoded_pixels`` what decoding it holds in memory (JPEG decodes at reduced size);
    with a ``budget`` the decode waits until its pixels fit in the process's budget.
    Raises UnsupportedMediaType, PayloadTooLarge or Unprocessable, and nothing else."""
    img = _open(data, max_pixels)
    with img:
        fmt = img.format or ""
        if fmt not in CONTENT_TYPES:
            raise UnsupportedMediaType(f"unsupported image format {fmt or 'unknown'}: {SUPPORTED}")
        width, height = img.size
        if max_pixels is not None and width * height > max_pixels.value:
            raise PayloadTooLarge(
                f"{width}x{height} is {width * height} pixels, over the limit of "
                f"{max_pixels.value} ({max_pixels.key})"
            )
        try:
            if fmt in _JPEG_FAMILY:
                # draft decode (JPEG DCT scaling): a fraction of the work of a full decode
                img.draft("RGB", _draft_box(img.size, target, long_side))
            _check_decoded(img.size, max_decoded_pixels)
            held = budget.hold(img.size[0] * img.size[1]) if budget else nullcontext()
            with held:
                # read before the rotation clears the tag (and after the caps: a PNG's EXIF
                # may follow its pixels, so reading it decodes them)
                turned = rotated_90(img)
                # the full-size pixels live only until the reduction: callers hold small copies
                rgb = reduced(_to_rgb(_upright(img)), target, long_side)
                if rgb is img:  # closing the file below would close this image too
                    rgb = img.copy()
        except PayloadTooLarge:
            raise
        except Image.DecompressionBombError as exc:
            raise PayloadTooLarge(f"too many pixels: {exc}") from exc
        except Exception as exc:  # a decoder's failure on this file, whatever its type
            raise Unprocessable(f"corrupt or truncated {fmt} image ({reason_of(exc)})") from exc
        if turned:
            width, height = height, width
        return DecodedImage(
            rgb, width, height, CONTENT_TYPES[fmt], taken_at(img), camera(img), gps(img)
        )


def reduced(
    image: Image.Image, short_side: int = DECODE_MIN_SIDE, long_side: int = 0
) -> Image.Image:
    """Shrunk by a whole factor (a box filter, as JPEG's reduced decoding does) while it keeps
    at least ``short_side`` on the short side and ``long_side`` on the long side."""
    width, height = image.size
    factor = min(width, height) // max(short_side, 1)
    if long_side:
        factor = min(factor, max(width, height) // long_side)
    return image.reduce(factor) if factor >= 2 else image


def _check_decoded(size: tuple[int, int], limit: Limit | None) -> None:
    width, height = size
    if limit is not None and width * height > limit.value:
        raise PayloadTooLarge(
            f"decoding it takes {width}x{height} pixels, over the limit of {limit.value} "
            f"({limit.key}); JPEG is decoded at reduced size, other formats in full"
        )


def _open(data: bytes, max_pixels: Limit | None) -> Image.Image:
    announced = signature(data)
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        key = f" ({max_pixels.key} is {max_pixels.value})" if max_pixels else ""
        raise PayloadTooLarge(f"too many pixels{key}") from exc
    except UnidentifiedImageError as exc:
        if announced:
            raise Unprocessable(f"corrupt {announced} file: its header does not parse") from exc
        raise UnsupportedMediaType(f"not an image: {SUPPORTED}") from exc
    except Exception as exc:  # a plugin failing on a header it half recognised
        if announced:
            raise Unprocessable(f"corrupt {announced} file ({reason_of(exc)})") from exc
        raise UnsupportedMediaType(f"not an image: {SUPPORTED}") from exc


def _upright(img: Image.Image) -> Image.Image:
    """EXIF orientation applied, in place (a copy of the largest image would double its
    memory); an orientation tag that cannot be applied is ignored."""
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except (Image.DecompressionBombError, OSError):
        raise
    except Exception:  # broken EXIF must not cost the picture
        img.load()
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in _SIXTEEN_BIT_RAW:
        # 16-bit greyscale, either byte order: keep the top 8 bits (a plain convert clips)
        wide = Image.frombytes("I", img.size, img.tobytes(), "raw", _SIXTEEN_BIT_RAW[mode])
        return wide.point(lambda v: v / 256).convert("L").convert("RGB")
    if mode in ("I", "F"):
        # 32-bit integers or floats have no fixed range: stretch what is there to 0..255
        low, high = cast(tuple[float, float], img.getextrema())
        scale = 255 / (high - low) if high > low else 0.0
        return img.point(lambda v: (v - low) * scale).convert("L").convert("RGB")
    if mode == "RGBA":
        # onto white with the alpha as the mask: about half the memory of alpha_composite's
        # full-size copies, which counts for the largest images
        white = Image.new("RGB", img.size, (255, 255, 255))
        white.paste(img.convert("RGB"), mask=img.getchannel("A"))
        return white
    if mode in _ALPHA_MODES or (mode == "P" and "transparency" in img.info):
        # transparent pixels show the page's white, not whatever colour they happen to hold
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _draft_box(size: tuple[int, int], short_side: int, long_side: int) -> tuple[int, int]:
    width, height = size
    scale = max(short_side / min(width, height), long_side / max(width, height))
    return math.ceil(width * scale), math.ceil(height * scale)
