"""Image files made on the spot, for uploads and decodes."""

import io

from PIL import Image


def image_bytes(
    colour: str | tuple[int, ...] = "red", fmt: str = "PNG", size: tuple[int, int] = (64, 48)
) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()
