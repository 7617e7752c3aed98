import pillow_heif
from PIL import Image

# HEIC/HEIF (what phones shoot) through Pillow's plugin interface
pillow_heif.register_heif_opener()

CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "AVIF": "image/avif",
    "HEIF": "image/heic",
}
ORIENTATION_TAG = 0x0112
ROTATED_90 = {5, 6, 7, 8}
# Twice CLIP's 224 px input: the model's own antialiased resize then sees enough pixels. At
# 224 one of five real photos embedded at cosine 0.985 to its full decode; at 448, all >= 0.9999.
DECODE_MIN_SIDE = 448


def upright_size(img: Image.Image, width: int, height: int) -> tuple[int, int]:
    """Width and height as the image is meant to be seen (EXIF orientation applied)."""
    if img.getexif().get(ORIENTATION_TAG, 1) in ROTATED_90:
        return height, width
    return width, height
