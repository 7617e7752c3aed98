import io
import threading

import pytest
from PIL import Image

from shared.config import Limit
from shared.errors import AppError, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from shared.images import PixelBudget, decode_image
from tests.support.bombs import png_claiming
from tests.support.images import image_bytes
from tests.support.oddities import ODDITIES
from tests.support.polling import eventually


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/gif"),
     ("BMP", "image/bmp"), ("TIFF", "image/tiff"), ("AVIF", "image/avif"),
     ("HEIF", "image/heic")],
)  # fmt: skip
def test_type_is_sniffed_from_bytes(fmt: str, content_type: str) -> None:
    info = decode_image(image_bytes(fmt=fmt), max_pixels=Limit(10_000, "ingest.max_pixels"))
    assert (info.content_type, info.width, info.height) == (content_type, 64, 48)
    assert info.image.mode == "RGB"


def test_text_is_not_an_image() -> None:
    with pytest.raises(UnsupportedMediaType):
        decode_image(
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
        decode_image(data[: len(data) // 2], max_pixels=Limit(100_000, "ingest.max_pixels"))
    assert exc.value.status_code == 422


@pytest.mark.parametrize("name", sorted(ODDITIES))
def test_an_odd_but_real_file_decodes_upright_to_rgb(name: str) -> None:
    decoded = decode_image(ODDITIES[name](), max_pixels=Limit(10**8, "ingest.max_pixels"))
    assert decoded.image.mode == "RGB"
    assert decoded.width * decoded.height >= 1
    assert decoded.taken_at is None or decoded.taken_at > 0
    assert decoded.camera.isprintable()


@pytest.mark.parametrize(
    "name", [n for n in ODDITIES if n.startswith(("grey16", "grey32", "float"))]
)
def test_wide_greyscale_keeps_its_range_in_8_bits(name: str) -> None:
    """A ramp from black to white stays a ramp: not clipped to white, not crushed to black."""
    image = decode_image(ODDITIES[name]()).image
    left, right = image.getpixel((0, 0)), image.getpixel((image.width - 1, 0))
    assert left == (0, 0, 0)
    assert isinstance(right, tuple) and right[0] >= 250


def test_transparent_pixels_show_white() -> None:
    image = decode_image(ODDITIES["grey-alpha-LA.png"]()).image
    corner = image.getpixel((0, 0))
    assert isinstance(corner, tuple) and min(corner) >= 250  # alpha 0 at the top of the ramp


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", 415),
        (b"\x89PNG\r\n\x1a\n", 422),  # a PNG signature and nothing else
        (b"GIF89a" + b"\x00" * 20, 422),
        (b"BM" + b"\xff" * 60, 422),
        (b"II*\x00" + b"\x00" * 100, 422),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", 422),
        (b"DDS |\x00\x00\x00" + b"\x00" * 120, 415),  # a format we do not take
    ],
)
def test_any_decoder_failure_is_a_4xx_naming_why(data: bytes, status: int) -> None:
    with pytest.raises(AppError) as failed:
        decode_image(data)
    assert failed.value.status_code == status
    assert failed.value.detail


def test_decoded_pixels_are_capped_after_reduced_decoding() -> None:
    cap = Limit(1_000_000, "ingest.max_decoded_pixels")
    big = Image.new("RGB", (2400, 1800), (10, 120, 200))  # 4.3 MP
    jpeg, png = io.BytesIO(), io.BytesIO()
    big.save(jpeg, format="JPEG")
    big.save(png, format="PNG")
    # JPEG decodes at 1/4 here (600x450): under the cap; the PNG would be decoded whole
    decoded = decode_image(jpeg.getvalue(), max_decoded_pixels=cap)
    assert (decoded.width, decoded.height) == (2400, 1800)
    with pytest.raises(
        PayloadTooLarge, match=r"2400x1800 pixels, over the limit of 1000000 \(ingest"
    ):
        decode_image(png.getvalue(), max_decoded_pixels=cap)


def test_the_kept_image_is_shrunk_to_what_the_caller_needs() -> None:
    png = io.BytesIO()
    Image.new("RGB", (4000, 3000), (1, 2, 3)).save(png, format="PNG")
    assert min(decode_image(png.getvalue()).image.size) < 1000  # no 12 MP copy kept
    assert max(decode_image(png.getvalue(), long_side=1280).image.size) >= 1280


def test_a_pixel_budget_lets_decodes_in_only_as_they_fit() -> None:
    budget = PixelBudget(100)
    inside: list[int] = []
    most = [0]
    lock = threading.Lock()
    release = threading.Event()

    def decode(pixels: int) -> None:
        with budget.hold(pixels):
            with lock:
                inside.append(min(pixels, 100))  # one over the budget takes all of it
                most[0] = max(most[0], sum(inside))
            release.wait(5)
            with lock:
                inside.remove(min(pixels, 100))

    threads = [threading.Thread(target=decode, args=(p,)) for p in (60, 60, 30, 500)]
    for t in threads:
        t.start()
    eventually(lambda: sum(inside) >= 60, 5, "a first decode inside")
    release.set()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    assert most[0] <= 100  # never more than the budget at once (500 alone counts as 100)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_png_over_the_decoded_cap_is_refused_before_any_pixel_is_decoded() -> None:
    bomb = png_claiming(10_000, 10_000)
    with pytest.raises(Unprocessable):  # decoding it fails: the pixels are not there
        decode_image(bomb, max_decoded_pixels=Limit(200_000_000, "search.max_pixels"))
    with pytest.raises(PayloadTooLarge, match=r"search\.max_pixels"):  # refused before that
        decode_image(bomb, max_decoded_pixels=Limit(16_000_000, "search.max_pixels"))
