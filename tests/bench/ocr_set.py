"""A labelled set for reading text in pictures, generated: words printed into photo-like
scenes (scikit-image's bundled photos, the project's synthetic scenes), as signs, small print,
low contrast and turned; and the same scenes without text. Each picture is made at the size of
the worker's preview (1280 px) and goes through JPEG as the preview does."""

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage import data

from imagesearch_dev.training.scenes import all_scenes, render

PREVIEW_PX = 1280
# photos without writing in them (astronaut, rocket, logo, page and text hold some)
PHOTOS = [
    "chelsea", "coffee", "hubble_deep_field", "immunohistochemistry", "retina", "moon",
    "camera", "grass", "gravel", "brick", "cell", "colorwheel", "cat",
]  # fmt: skip
WORDS = [
    "CAFE", "ROMA", "OPEN", "CLOSED", "PHARMACY", "BAKERY", "EXIT", "PARKING", "HOTEL",
    "STATION", "MARKET", "TICKETS", "RECEIPT", "TOTAL", "COFFEE", "SALE", "GARDEN", "MUSEUM",
    "LIBRARY", "PIZZA", "BOOKS", "FLOWERS", "TRAIN", "PLATFORM", "WELCOME", "BIRTHDAY",
    "Lisbon", "Harbour", "Sunday", "Monday", "Espresso", "Chocolate", "Festival", "Concert",
    "Avenue", "Street", "Bridge", "Central", "Museum", "Gallery", "Kitchen", "Theatre",
    "2019", "1984", "24H", "12.50", "EUR", "No", "Smoking",
]  # fmt: skip
KINDS = ["printed", "small", "low_contrast", "turned", "tilted"]


@dataclass(frozen=True)
class Labelled:
    name: str
    kind: str  # one of KINDS, or "textless"
    jpeg: bytes
    words: tuple[str, ...]  # as printed


def backgrounds(rng: random.Random) -> Iterator[Image.Image]:
    """Photo-like scenes at the preview's size: the photos, cropped and flipped, and the
    synthetic scenes, in turn."""
    photos = []
    for name in PHOTOS:
        pixels = np.asarray(getattr(data, name)())
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        photos.append(Image.fromarray(pixels[..., :3].astype(np.uint8)))
    scenes = all_scenes()
    n = 0
    while True:
        if n % 2 == 0:
            photo = photos[(n // 2) % len(photos)]
            w, h = photo.size
            w8, h8 = int(w) // 8, int(h) // 8
            box = (rng.randint(0, w8), rng.randint(0, h8), w - rng.randint(0, w8),
                   h - rng.randint(0, h8))  # fmt: skip
            image = photo.crop(box)
            if rng.random() < 0.5:
                image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        else:
            image = render(rng.choice(scenes), 512, rng)
        yield fit(image, rng)
        n += 1


def fit(image: Image.Image, rng: random.Random) -> Image.Image:
    wide = rng.random() < 0.7
    size = (
        (PREVIEW_PX, rng.choice([720, 853, 960])) if wide else (rng.choice([720, 960]), PREVIEW_PX)
    )
    return image.convert("RGB").resize(size, Image.Resampling.BICUBIC)


def printed(image: Image.Image, words: list[str], kind: str, rng: random.Random) -> Image.Image:
    """The words on a sign (a panel of one colour) somewhere in the picture."""
    size = {"small": rng.randint(15, 19)}.get(kind, rng.randint(30, 64))
    font = ImageFont.load_default(size=size)
    text = " ".join(words)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    tw, th = int(right - left), int(bottom - top)
    pad = max(4, size // 3)
    x = rng.randint(pad, max(pad, image.width - tw - 2 * pad))
    y = rng.randint(pad, max(pad, image.height - th - 2 * pad))
    panel = tuple(rng.randint(0, 255) for _ in range(3))
    if kind == "low_contrast":
        step = rng.choice([-1, 1]) * rng.randint(55, 75)
        ink = tuple(min(255, max(0, c + step)) for c in panel)
    else:
        ink = (20, 20, 20) if sum(panel) > 380 else (245, 245, 245)
    draw.rectangle((x - pad, y - pad, x + tw + pad, y + th + pad), fill=panel)
    draw.text((x - int(left), y - int(top)), text, font=font, fill=ink)
    if kind == "turned":
        image = image.rotate(rng.choice([90, 180, 270]), expand=True)
    elif kind == "tilted":
        image = image.rotate(
            rng.uniform(-12, 12), resample=Image.Resampling.BICUBIC, fillcolor=panel
        )
    return image


def jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def labelled_set(per_kind: int, textless: int, seed: int = 5) -> list[Labelled]:
    rng = random.Random(seed)
    scenes = backgrounds(rng)
    out = []
    for kind in KINDS:
        for n in range(per_kind):
            words = rng.sample(WORDS, rng.randint(1, 4))
            if rng.random() < 0.3:  # run together, as signs do: CAFEROMA
                words = ["".join(w.upper() for w in words[:2]), *words[2:]]
            image = printed(next(scenes), words, kind, rng)
            out.append(Labelled(f"{kind}-{n}", kind, jpeg(image), tuple(words)))
    for n in range(textless):
        out.append(Labelled(f"textless-{n}", "textless", jpeg(next(scenes)), ()))
    return out


def small_print_page(size: int = 9, seed: int = 3) -> tuple[bytes, int]:
    """A page of small print filling a preview: short words of ``size``-px type in a tight
    grid (thousands of boxes); the JPEG and how many words it holds."""
    rng = random.Random(seed)
    image = Image.new("RGB", (PREVIEW_PX, PREVIEW_PX), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size)
    step_x, step_y, printed = size * 3, size + 4, 0
    for y in range(2, PREVIEW_PX - step_y, step_y):
        for x in range(2, PREVIEW_PX - step_x, step_x):
            word = "".join(rng.choice("abcdefghkmnoprstuwxyz") for _ in range(2))
            draw.text((x, y), word, font=font, fill=(10, 10, 10))
            printed += 1
    return jpeg(image), printed
