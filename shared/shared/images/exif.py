"""What EXIF says about how a photo was taken: when, and with which camera."""

from datetime import UTC, datetime, timedelta, timezone

from PIL import ExifTags, Image

_FORMAT = "%Y:%m:%d %H:%M:%S"


def taken_at(img: Image.Image) -> int | None:
    """Epoch seconds of DateTimeOriginal (its own UTC offset when recorded, else read as UTC:
    cameras store local time without a zone)."""
    exif = img.getexif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    raw = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.strptime(raw.strip("\x00 ")[:19], _FORMAT)
    except ValueError:
        return None
    offset = _offset(sub.get(ExifTags.Base.OffsetTimeOriginal))
    return int(moment.replace(tzinfo=offset or UTC).timestamp())


def camera(img: Image.Image) -> str:
    exif = img.getexif()
    make = str(exif.get(ExifTags.Base.Make, "")).strip("\x00 ")
    model = str(exif.get(ExifTags.Base.Model, "")).strip("\x00 ")
    if model.lower().startswith(make.lower()):
        return model[:256]
    return f"{make} {model}".strip()[:256]


def _offset(raw: object) -> timezone | None:
    if not isinstance(raw, str) or len(raw) < 6 or raw[0] not in "+-":
        return None
    try:
        hours, minutes = int(raw[1:3]), int(raw[4:6])
    except ValueError:
        return None
    sign = -1 if raw[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
