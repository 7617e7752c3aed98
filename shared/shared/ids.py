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
