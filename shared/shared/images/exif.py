"""What EXIF says about a photo: when it was taken, with which camera, which way up.

EXIF is written by every kind of device and edited by every kind of tool: any value may be
missing, malformed or out of range. A value that cannot be read is treated as absent; it never
costs the picture.
"""

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
