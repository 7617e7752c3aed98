"""What EXIF says about a photo: when it was taken, with which camera, which way up, where.

EXIF is written by every kind of device and edited by every kind of tool: any value may be
missing, malformed or out of range. A value that cannot be read is treated as absent; it never
costs the picture.
"""

import math
import numbers
from datetime import UTC, datetime, timedelta, timezone

from PIL import ExifTags, Image

_FORMAT = "%Y:%m:%d %H:%M:%S"
ORIENTATION_TAG = 0x0112
ROTATED_90 = {5, 6, 7, 8}
MAX_CAMERA_CHARS = 256


def taken_at(img: Image.Image) -> int | None:
    """Epoch seconds of DateTimeOriginal (its own UTC offset when recorded, else read as UTC:
    cameras store local time without a zone)."""
    try:
        exif = img.getexif()
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        raw = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
        if not isinstance(raw, str):
            return None
        moment = datetime.strptime(raw.strip("\x00 ")[:19], _FORMAT)
        offset = _offset(sub.get(ExifTags.Base.OffsetTimeOriginal))
        return int(moment.replace(tzinfo=offset or UTC).timestamp())
    except Exception:  # unreadable or out of range: no date
        return None


def camera(img: Image.Image) -> str:
    try:
        exif = img.getexif()
        make = _text(exif.get(ExifTags.Base.Make, ""))
        model = _text(exif.get(ExifTags.Base.Model, ""))
    except Exception:  # unreadable: no camera
        return ""
    if model.lower().startswith(make.lower()):
        return model[:MAX_CAMERA_CHARS]
    return f"{make} {model}".strip()[:MAX_CAMERA_CHARS]


def gps(img: Image.Image) -> tuple[float, float] | None:
    """(latitude, longitude) in degrees, or None: no GPS, a zero denominator, a value out of
    range, or exactly (0, 0), which receivers write when they have no fix."""
    try:
        info = img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        lat = _degrees(info.get(ExifTags.GPS.GPSLatitude), info.get(ExifTags.GPS.GPSLatitudeRef))
        lon = _degrees(info.get(ExifTags.GPS.GPSLongitude), info.get(ExifTags.GPS.GPSLongitudeRef))
    except Exception:  # unreadable: no place
        return None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None
    return round(lat, 7), round(lon, 7)


def _degrees(dms: object, ref: object) -> float | None:
    """(degrees, minutes, seconds) rationals (or degrees alone) and N/S/E/W to signed
    degrees."""
    if isinstance(dms, numbers.Real):  # one rational reads back as a number
        dms = (dms,)
    if not isinstance(dms, tuple | list) or not 1 <= len(dms) <= 3:
        return None
    parts = [float(part) for part in dms]  # a zero denominator reads as nan
    if not all(math.isfinite(p) and p >= 0 for p in parts) or any(p >= 60 for p in parts[1:]):
        return None
    value = float(sum(p / 60**n for n, p in enumerate(parts)))
    side = _text(ref).upper()[:1]
    if side not in ("N", "S", "E", "W"):
        return None
    return -value if side in ("S", "W") else value


def rotated_90(img: Image.Image) -> bool:
    """Whether EXIF says the picture is seen turned a quarter (width and height swap)."""
    try:
        return img.getexif().get(ORIENTATION_TAG, 1) in ROTATED_90
    except Exception:  # unreadable: as stored
        return False


def _text(raw: object) -> str:
    """Printable text only: some cameras pad with NULs or write binary junk."""
    text = raw.decode("ascii", "ignore") if isinstance(raw, bytes) else str(raw)
    return "".join(ch for ch in text if ch.isprintable()).strip()


def _offset(raw: object) -> timezone | None:
    if not isinstance(raw, str) or len(raw) < 6 or raw[0] not in "+-":
        return None
    try:
        hours, minutes = int(raw[1:3]), int(raw[4:6])
        sign = -1 if raw[0] == "-" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    except ValueError:  # "+99:00" and the like: no zone
        return None
