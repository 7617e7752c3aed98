import pillow_heif

# HEIC/HEIF (what phones shoot) through Pillow's plugin interface
pillow_heif.register_heif_opener()

# the one table of what we take in: Pillow's format name -> content type, and the file
# suffixes the bulk client looks for (the server itself never trusts a name: it sniffs bytes)
FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "JPEG": ("image/jpeg", (".jpg", ".jpeg", ".jpe")),
    # multi-picture JPEG (stereo and depth shots, often named .jpg): the first picture counts
    "MPO": ("image/jpeg", (".mpo",)),
    "PNG": ("image/png", (".png",)),
    "WEBP": ("image/webp", (".webp",)),
    "GIF": ("image/gif", (".gif",)),
    "BMP": ("image/bmp", (".bmp",)),
    "TIFF": ("image/tiff", (".tif", ".tiff")),
    "AVIF": ("image/avif", (".avif",)),
    "HEIF": ("image/heic", (".heic", ".heif")),
}
CONTENT_TYPES = {name: content_type for name, (content_type, _) in FORMATS.items()}
SUPPORTED = "send JPEG, PNG, WebP, GIF, BMP, TIFF, AVIF or HEIC"
_SIGNATURES = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
]


# ISO base media files (HEIF family): the major brand names the codec
_ISOBMFF_BRANDS = {
    b"avif": "AVIF",
    b"avis": "AVIF",
    **{brand: "HEIF" for brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")},
}
# Twice CLIP's 224 px input: the model's own antialiased resize then sees enough pixels. At
# 224 one of five real photos embedded at cosine 0.985 to its full decode; at 448, all >= 0.9999.
DECODE_MIN_SIDE = 448


def signature(data: bytes) -> str | None:
    """The format the first bytes announce, if any."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        return _ISOBMFF_BRANDS.get(data[8:12])
    return next((fmt for magic, fmt in _SIGNATURES if data.startswith(magic)), None)
