"""Content ids: an image's id is the sha256 of its bytes; the same bytes get the same id."""

import hashlib
import re

ID_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# the stored originals are the truth of what was accepted: listing this prefix finds them all
ORIGINALS_PREFIX = "originals/"


def content_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_content_id(value: str) -> bool:
    return bool(ID_PATTERN.fullmatch(value))


def original_key(image_id: str) -> str:
    return f"{ORIGINALS_PREFIX}{image_id}"


def details_key(image_id: str) -> str:
    """Caption and tags sent with the upload (JSON), when any were."""
    return f"details/{image_id}.json"


def thumbnail_key(image_id: str) -> str:
    return f"thumbnails/{image_id}.jpg"


def preview_key(image_id: str) -> str:
    return f"previews/{image_id}.jpg"


def derived_keys(image_id: str) -> list[str]:
    """The smaller copies made from an original."""
    return [thumbnail_key(image_id), preview_key(image_id)]


def image_keys(image_id: str) -> list[str]:
    """Every object kept for an image, its original last: while the original is there, the
    image still exists (and a delete interrupted part-way can be run again)."""
    return [*derived_keys(image_id), details_key(image_id), original_key(image_id)]
