"""Upload validation: what the bytes are (never the filename), and whether they decode."""

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from shared.config import Limit
from shared.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from shared.images.formats import CONTENT_TYPES, DECODE_MIN_SIDE, upright_size

SUPPORTED = "JPEG, PNG, WebP, GIF, BMP, TIFF, AVIF or HEIC"
_SIGNATURES = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
]


# ISO base media files (HEIF family): the major brand names the codec
_ISOBMFF_BRANDS = {
    b"avif": "AVIF",
    b"avis": "AVIF",
    **{brand: "HEIF" for brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")},
}


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int  # upright, EXIF orientation applied
    height: int


def signature(data: bytes) -> str | None:
    """The format the first bytes announce, if any."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        return _ISOBMFF_BRANDS.get(data[8:12])
    return next((fmt for magic, fmt in _SIGNATURES if data.startswith(magic)), None)


def validate_image(data: bytes, max_pixels: Limit) -> ImageInfo:
    """Accept only a supported image that decodes in full and is not too many pixels.

    Raises UnsupportedMediaType (415), PayloadTooLarge (413) or Unprocessable (422).
    """
    announced = signature(data)
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise PayloadTooLarge(f"too many pixels ({max_pixels.key} is {max_pixels.value})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if announced:
            raise Unprocessable(f"corrupt {announced} file: its header does not parse") from exc
        raise UnsupportedMediaType(f"not an image: send {SUPPORTED}") from exc
    with img:
        if img.format not in CONTENT_TYPES:
            raise UnsupportedMediaType(f"unsupported image format {img.format}: send {SUPPORTED}")
        width, height = img.size
        if width * height > max_pixels.value:
            raise PayloadTooLarge(
                f"{width}x{height} is {width * height} pixels, over the limit of "
                f"{max_pixels.value} ({max_pixels.key})"
            )
        try:
            if img.format == "JPEG":
                img.draft("RGB", (DECODE_MIN_SIDE, DECODE_MIN_SIDE))
            img.load()  # an animated GIF: its first frame
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise Unprocessable(f"corrupt or truncated {img.format} image: {exc}") from exc
        upright = upright_size(img, width, height)
        return ImageInfo(CONTENT_TYPES[img.format], *upright)
