import pillow_heif
from PIL import Image

# HEIC/HEIF (what phones shoot) through Pillow's plugin interface
pillow_heif.register_heif_opener()

# the one table of what we take in: Pillow's format name -> content type, and the file
# suffixes the bulk client looks for (the server itself never trusts a name: it sniffs bytes)
FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "JPEG": ("image/jpeg", (".jpg", ".jpeg", ".jpe")),
    "PNG": ("image/png", (".png",)),
    "WEBP": ("image/webp", (".webp",)),
    "GIF": ("image/gif", (".gif",)),
    "BMP": ("image/bmp", (".bmp",)),
    "TIFF": ("image/tiff", (".tif", ".tiff")),
    "AVIF": ("image/avif", (".avif",)),
    "HEIF": ("image/heic", (".heic", ".heif")),
}
CONTENT_TYPES = {name: content_type for name, (content_type, _) in FORMATS.items()}
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
