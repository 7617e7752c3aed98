"""Images: what the bytes are, decoding for the model, and the smaller copies the page shows."""

from shared.images.budget import PixelBudget
from shared.images.decode import DecodedImage, decode_image, reduced
from shared.images.derive import DERIVED_TYPE, PREVIEW_PX, THUMBNAIL_PX, derive, store_derived
from shared.images.formats import CONTENT_TYPES, FORMATS, SUPPORTED, signature

__all__ = [
    "CONTENT_TYPES",
    "DERIVED_TYPE",
    "FORMATS",
    "PREVIEW_PX",
    "SUPPORTED",
    "THUMBNAIL_PX",
    "DecodedImage",
    "PixelBudget",
    "decode_image",
    "derive",
    "reduced",
    "signature",
    "store_derived",
]
