"""Image files made on the spot, for uploads and decodes."""

import io
import struct
import time
import uuid
import zlib

import numpy as np
from PIL import ExifTags, Image, ImageDraw, ImageFont, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational


def image_bytes(
    colour: str | tuple[int, ...] = "red", fmt: str = "PNG", size: tuple[int, int] = (64, 48)
) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()


def unique_seed() -> int:
    """A random generator's seed no other test draws (64 bits of a uuid): images made from it
    differ from every other test's, on a bucket and index the tests share."""
    return uuid.uuid4().int >> 64


def unique_image_bytes(
    colour: str | tuple[int, ...] = "red", fmt: str = "PNG", size: tuple[int, int] = (64, 48)
) -> bytes:
    """Bytes no other call returns (a uuid in the file's comment), whatever the pixels: a new
    content id for every test, on a bucket and index the tests share."""
    buf = io.BytesIO()
    image = Image.new("RGB", size, colour)
    tag = uuid.uuid4().hex
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", tag)
        image.save(buf, format=fmt, pnginfo=info)
    else:
        image.save(buf, format=fmt, comment=tag.encode())
    return buf.getvalue()


def dated_jpeg(image: Image.Image, quality: int = 90, taken_at: int | None = None) -> bytes:
    """A JPEG of ``image``, with an EXIF date taken (epoch seconds, UTC) when given."""
    exif = Image.Exif()
    if taken_at is not None:
        exif[0x8769] = {0x9003: time.strftime("%Y:%m:%d %H:%M:%S", time.gmtime(taken_at))}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def noise_png(side: int, seed: int) -> bytes:
    """A square PNG of noise, which does not compress: about 3 bytes a pixel (3000 px: 27 MB)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def another_copy(png: bytes) -> bytes:
    """The same pixels under a new content id: a text chunk inserted after the header, no
    re-encoding (cheap for a large PNG)."""
    text = b"Comment\x00" + uuid.uuid4().hex.encode()
    chunk = struct.pack(">I", len(text)) + b"tEXt" + text
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + text))
    header_end = 8 + 25  # the signature, then IHDR
    return png[:header_end] + chunk + png[header_end:]


def jpeg_with_gps(
    latitude: tuple[object, ...],
    latitude_ref: str,
    longitude: tuple[object, ...],
    longitude_ref: str,
    colour: str | tuple[int, ...] = "red",
    size: tuple[int, int] = (64, 48),
) -> bytes:
    """A JPEG whose EXIF GPS says these (degrees, minutes, seconds), as cameras write them:
    rationals (IFDRational, a zero denominator allowed) and N/S, E/W."""
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = latitude_ref
    gps[ExifTags.GPS.GPSLatitude] = latitude
    gps[ExifTags.GPS.GPSLongitudeRef] = longitude_ref
    gps[ExifTags.GPS.GPSLongitude] = longitude
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def dms(degrees: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """Degrees as EXIF writes them: whole degrees, whole minutes, seconds to 1/100."""
    whole = int(degrees)
    minutes = int((degrees - whole) * 60)
    seconds = round(((degrees - whole) * 60 - minutes) * 60 * 100)
    return IFDRational(whole), IFDRational(minutes), IFDRational(seconds, 100)


def jpeg_with_sign(
    text: str,
    gps: tuple[float, float] | None = None,
    colour: str | tuple[int, ...] = (70, 110, 140),
    size: tuple[int, int] = (1280, 853),
) -> bytes:
    """A photo of a sign: dark print on a light panel, with the GPS position if given."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((width // 8, height // 3, width * 7 // 8, height // 2), fill=(240, 232, 205))
    font = ImageFont.load_default(size=max(12, height // 15))
    draw.text((width // 8 + 20, height // 3 + 20), text, font=font, fill=(25, 25, 25))
    exif = Image.Exif()
    if gps is not None:
        lat, lon = gps
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        info[ExifTags.GPS.GPSLatitude] = dms(abs(lat))
        info[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        info[ExifTags.GPS.GPSLongitude] = dms(abs(lon))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90, exif=exif)
    return buf.getvalue()
