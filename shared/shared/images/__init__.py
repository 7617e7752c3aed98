from shared.images.decode import DecodedImage, decode_image
from shared.images.validate import ImageInfo, validate_image

__all__ = ["DecodedImage", "ImageInfo", "decode_image", "validate_image"]
