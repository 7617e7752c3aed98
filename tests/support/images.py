"""Image files made on the spot, for uploads and decodes."""

import io
import time

from PIL import Image


def image_bytes(
    colour: str | tuple[int, ...] = "red", fmt: str = "PNG", size: tuple[int, int] = (64, 48)
) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()


def dated_jpeg(image: Image.Image, quality: int = 90, taken_at: int | None = None) -> bytes:
    """A JPEG of ``image``, with an EXIF date taken (epoch seconds, UTC) when given."""
    exif = Image.Exif()
    if taken_at is not None:
        exif[0x8769] = {0x9003: time.strftime("%Y:%m:%d %H:%M:%S", time.gmtime(taken_at))}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()
