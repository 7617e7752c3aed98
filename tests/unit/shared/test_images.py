import io

import pytest
from PIL import Image

from shared.config import Limit
from shared.errors import Unprocessable, UnsupportedMediaType
from shared.images import decode_image, validate_image
from tests.support.images import image_bytes


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/gif"),
     ("BMP", "image/bmp"), ("TIFF", "image/tiff"), ("AVIF", "image/avif"),
     ("HEIF", "image/heic")],
)  # fmt: skip
def test_type_is_sniffed_from_bytes(fmt: str, content_type: str) -> None:
    info = validate_image(image_bytes(fmt=fmt), max_pixels=Limit(10_000, "ingest.max_pixels"))
    assert (info.content_type, info.width, info.height) == (content_type, 64, 48)


def test_text_is_not_an_image() -> None:
    with pytest.raises(UnsupportedMediaType):
        validate_image(
            b"hello, I am a text file pretending to be a .jpg",
            max_pixels=Limit(10_000, "ingest.max_pixels"),
        )


def test_exif_orientation_is_applied() -> None:
    img = Image.new("RGB", (80, 40), "red")
    exif = img.getexif()
    exif[0x0112] = 6  # rotated 90 degrees: the upright image is 40 wide, 80 tall
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    decoded = decode_image(buf.getvalue())
    assert (decoded.width, decoded.height) == (40, 80)
    assert decoded.image.height > decoded.image.width


def test_large_jpeg_is_decoded_reduced_but_reports_original_size() -> None:
    decoded = decode_image(image_bytes(fmt="JPEG", size=(2400, 1600)), target=224)
    assert (decoded.width, decoded.height) == (2400, 1600)
    assert 224 <= min(decoded.image.size) < 1600


def test_truncated_image_is_unprocessable() -> None:
    data = image_bytes(fmt="PNG", size=(300, 300))
    with pytest.raises(Unprocessable):
        decode_image(data[: len(data) // 2])


@pytest.mark.parametrize("fmt", ["AVIF", "HEIF"])
def test_a_truncated_heif_family_file_is_corrupt_not_unknown(fmt: str) -> None:
    data = image_bytes(fmt=fmt, size=(128, 96))
    with pytest.raises((Unprocessable, UnsupportedMediaType)) as exc:
        validate_image(data[: len(data) // 2], max_pixels=Limit(100_000, "ingest.max_pixels"))
    assert exc.value.status_code == 422
