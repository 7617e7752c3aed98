"""GPS from EXIF, as cameras and editors write it, bad values included: a value that cannot be
read is no position, never an error."""

import io

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from shared.images import decode_image
from shared.images.exif import gps
from tests.support.images import dms, image_bytes, jpeg_with_gps


def read(data: bytes) -> tuple[float, float] | None:
    with Image.open(io.BytesIO(data)) as img:
        return gps(img)


def test_a_position_reads_as_signed_degrees() -> None:
    lisbon = jpeg_with_gps(dms(38.7223), "N", dms(9.1393), "W")
    lat, lon = read(lisbon) or (0.0, 0.0)
    assert lat == pytest.approx(38.7223, abs=1e-5)
    assert lon == pytest.approx(-9.1393, abs=1e-5)
    sydney = jpeg_with_gps(dms(33.8688), "S", dms(151.2093), "E")
    assert read(sydney) == pytest.approx((-33.8688, 151.2093), abs=1e-5)


def test_decoding_keeps_the_position() -> None:
    decoded = decode_image(jpeg_with_gps(dms(38.7223), "N", dms(9.1393), "W"))
    assert decoded.gps == pytest.approx((38.7223, -9.1393), abs=1e-5)
    assert decode_image(image_bytes(fmt="JPEG")).gps is None


@pytest.mark.parametrize(
    ("latitude", "latitude_ref", "longitude", "longitude_ref"),
    [
        # a zero denominator (written by some phones with no fix)
        ((IFDRational(38, 0), IFDRational(0), IFDRational(0)), "N", dms(9.0), "W"),
        (dms(95.0), "N", dms(9.0), "W"),  # beyond the pole
        (dms(38.0), "N", dms(181.0), "E"),  # beyond the date line
        ((IFDRational(38), IFDRational(75), IFDRational(0)), "N", dms(9.0), "W"),  # 75 minutes
        (dms(38.0), "X", dms(9.0), "W"),  # no such side
        (dms(38.0), "", dms(9.0), "W"),  # no side at all
        (dms(0.0), "N", dms(0.0), "E"),  # (0, 0): a receiver without a fix
    ],
)
def test_bad_gps_is_no_position(
    latitude: tuple[IFDRational, ...], latitude_ref: str, longitude: tuple[IFDRational, ...],
    longitude_ref: str,
) -> None:  # fmt: skip
    data = jpeg_with_gps(latitude, latitude_ref, longitude, longitude_ref)
    assert read(data) is None
    assert decode_image(data).gps is None  # and the picture itself decodes


def test_degrees_alone_are_a_position() -> None:
    data = jpeg_with_gps((IFDRational(3871, 100),), "N", (IFDRational(914, 100),), "W")
    assert read(data) == pytest.approx((38.71, -9.14))
