from shared.images.decode import DecodedImage, decode_image, sniff_format

__all__ = ["DecodedImage", "decode_image", "sniff_format"]
