"""Odd but real image files, made on the spot: the modes, metadata and containers that real
cameras, scanners and editors produce and that decoders trip over."""

import io
from collections.abc import Callable

from PIL import ExifTags, Image, TiffImagePlugin

SIZE = (96, 64)


def _save(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


def _gradient(mode: str, top: float) -> Image.Image:
    """A left-to-right ramp from 0 to ``top`` in a one-channel mode."""
    width, height = SIZE
    img = Image.new(mode, SIZE)
    values = [top * x / (width - 1) for x in range(width)] * height
    img.putdata([v if mode == "F" else int(v) for v in values])
    return img


def _picture(mode: str = "RGB") -> Image.Image:
    rgb = Image.new("RGB", SIZE, (200, 60, 30))
    rgb.paste((20, 90, 220), (SIZE[0] // 2, 0, SIZE[0], SIZE[1]))
    return rgb.convert(mode)


def _with_alpha(mode: str) -> Image.Image:
    img = _picture("RGBA")
    img.putalpha(Image.linear_gradient("L").resize(SIZE))
    return img.convert(mode)


def _exif_jpeg(tags: dict[int, object], sub: dict[int, object] | None = None) -> bytes:
    img = _picture()
    exif = img.getexif()
    exif.update(tags)
    if sub:
        exif.get_ifd(ExifTags.IFD.Exif).update(sub)
    return _save(img, "JPEG", exif=exif)


def _gps_jpeg() -> bytes:
    img = _picture()
    exif = img.getexif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "Q"
    gps[ExifTags.GPS.GPSLatitude] = (TiffImagePlugin.IFDRational(1, 0),) * 3  # divide by zero
    gps[ExifTags.GPS.GPSLongitude] = (TiffImagePlugin.IFDRational(10**9, 1),) * 3
    return _save(img, "JPEG", exif=exif)


def _pages(fmt: str, **options: object) -> bytes:
    first, second = _picture(), _picture().transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return _save(first, fmt, save_all=True, append_images=[second], **options)


ODDITIES: dict[str, Callable[[], bytes]] = {
    # 16-bit and wide greyscale, in every mode Pillow reads them into
    "grey16-I;16.png": lambda: _save(_gradient("I;16", 65535), "PNG"),
    "grey16-I;16B.tiff": lambda: _save(_gradient("I;16B", 65535), "TIFF"),
    "grey16-I;16L.tiff": lambda: _save(_gradient("I;16L", 65535), "TIFF"),
    "grey32-I.tiff": lambda: _save(_gradient("I", 2**31 - 1), "TIFF"),
    "float-F.tiff": lambda: _save(_gradient("F", 1.0), "TIFF"),
    # transparency
    "grey-alpha-LA.png": lambda: _save(_with_alpha("LA"), "PNG"),
    "palette-alpha-PA.tiff": lambda: _save(_with_alpha("PA"), "TIFF"),
    "palette-transparent-P.png": lambda: _save(_picture("P"), "PNG", transparency=0),
    "palette-transparent-P.gif": lambda: _save(_picture("P"), "GIF", transparency=0),
    "rgba.webp": lambda: _save(_with_alpha("RGBA"), "WEBP"),
    # other colour models
    "bilevel-1.png": lambda: _save(_picture("1"), "PNG"),
    "bilevel-1.tiff": lambda: _save(_picture("1"), "TIFF", compression="group4"),
    "cmyk.jpg": lambda: _save(_picture("CMYK"), "JPEG"),
    "cmyk.tiff": lambda: _save(_picture("CMYK"), "TIFF"),
    "ycbcr.tiff": lambda: _save(_picture("YCbCr"), "TIFF"),
    "lab.tiff": lambda: _save(_picture("LAB"), "TIFF"),
    # EXIF out of range and oversized
    "exif-offset-out-of-range.jpg": lambda: _exif_jpeg(
        {ExifTags.Base.DateTime: "2024:05:06 07:08:09"},
        {ExifTags.Base.OffsetTimeOriginal: "+99:99", ExifTags.Base.DateTimeOriginal: "x"},
    ),
    "exif-date-out-of-range.jpg": lambda: _exif_jpeg(
        {}, {ExifTags.Base.DateTimeOriginal: "9999:99:99 99:99:99"}
    ),
    "exif-year-zero.jpg": lambda: _exif_jpeg(
        {}, {ExifTags.Base.DateTimeOriginal: "0000:00:00 00:00:00"}
    ),
    "exif-orientation-out-of-range.jpg": lambda: _exif_jpeg({0x0112: 77}),
    "exif-gps-out-of-range.jpg": _gps_jpeg,
    "exif-oversized.jpg": lambda: _exif_jpeg({ExifTags.Base.ImageDescription: "x" * 60_000}),
    "exif-camera-binary.jpg": lambda: _exif_jpeg(
        {ExifTags.Base.Make: b"\xff\xfe\x00\x01", ExifTags.Base.Model: "\x00" * 300}
    ),
    "icc-broken.jpg": lambda: _save(_picture(), "JPEG", icc_profile=b"not an ICC profile" * 20),
    "icc-broken.png": lambda: _save(_picture(), "PNG", icc_profile=b"\x00" * 200),
    # several frames or pages: the first one counts
    "two-frames.mpo": lambda: _pages("MPO"),
    "animated.png": lambda: _pages("PNG"),
    "animated.gif": lambda: _pages("GIF"),
    "two-pages.tiff": lambda: _pages("TIFF"),
    # extreme shapes
    "one-pixel.png": lambda: _save(Image.new("RGB", (1, 1), "red"), "PNG"),
    "one-row.png": lambda: _save(Image.new("RGB", (4000, 1), "red"), "PNG"),
    "one-column.jpg": lambda: _save(Image.new("RGB", (1, 3000), "blue"), "JPEG"),
}


def oddities() -> dict[str, bytes]:
    return {name: make() for name, make in ODDITIES.items()}
