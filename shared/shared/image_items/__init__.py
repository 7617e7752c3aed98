"""What the APIs say about the images of the library: one item shape for search, similar and
browse results, and the filters they share."""

from shared.image_items.filters import ImageFilterParams
from shared.image_items.items import ImageItem, ItemMaker

__all__ = ["ImageFilterParams", "ImageItem", "ItemMaker"]
