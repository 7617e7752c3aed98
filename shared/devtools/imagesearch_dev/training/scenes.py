"""Captioned synthetic scenes: shapes of a colour, size and count, placed on a background.

Every caption names all of a scene's attributes, so a caption picks out its scene exactly.
"""

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

COLOURS = {
    "red": (220, 30, 30),
    "green": (40, 170, 60),
    "blue": (40, 70, 220),
    "yellow": (240, 210, 30),
    "purple": (140, 50, 170),
    "orange": (245, 140, 20),
    "pink": (245, 120, 190),
    "brown": (130, 80, 40),
}
BACKGROUNDS = {"white": (250, 250, 250), "black": (15, 15, 15), "grey": (128, 128, 128)}
SHAPES = ["circle", "square", "triangle", "star", "cross"]
SIZES = ["small", "large"]
POSITIONS = ["left", "right", "top", "bottom", "centre"]
COUNTS = {1: "one", 2: "two", 3: "three"}
PLURALS = {"cross": "crosses"}


@dataclass(frozen=True)
class Scene:
    colour: str
    shape: str
    size: str
    count: int
    position: str  # where a single shape sits; groups are spread in a row
    background: str

    @property
    def caption(self) -> str:
        on = f"on a {self.background} background"
        if self.count == 1:
            where = "in the centre" if self.position == "centre" else f"at the {self.position}"
            return f"a {self.size} {self.colour} {self.shape} {where} {on}"
        noun = PLURALS.get(self.shape, self.shape + "s")
        return f"{COUNTS[self.count]} {self.size} {self.colour} {noun} {on}"

    @property
    def key(self) -> tuple[str, str, str, int, str, str]:
        return (self.colour, self.shape, self.size, self.count, self.position, self.background)


def all_scenes() -> list[Scene]:
    scenes = []
    for colour in COLOURS:
        for shape in SHAPES:
            for size in SIZES:
                for background in BACKGROUNDS:
                    for position in POSITIONS:
                        scenes.append(Scene(colour, shape, size, 1, position, background))
                    for count in (2, 3):
                        scenes.append(Scene(colour, shape, size, count, "centre", background))
    return scenes


_CENTRES = {
    "left": (0.25, 0.5),
    "right": (0.75, 0.5),
    "top": (0.5, 0.25),
    "bottom": (0.5, 0.75),
    "centre": (0.5, 0.5),
}


def render(scene: Scene, size: int, rng: random.Random) -> Image.Image:
    """Draw a scene; jitter in place, size and shade makes every rendering different."""
    img = Image.new("RGB", (size, size), _shade(BACKGROUNDS[scene.background], rng, 12))
    pen = ImageDraw.Draw(img)
    radius = size * (0.09 if scene.size == "small" else 0.2) * rng.uniform(0.85, 1.15)
    if scene.count == 1:
        cx, cy = _CENTRES[scene.position]
        centres = [(cx + rng.uniform(-0.05, 0.05), cy + rng.uniform(-0.05, 0.05))]
    else:
        radius = min(radius, size * 0.14)
        y = rng.uniform(0.4, 0.6)
        xs = [0.3, 0.7] if scene.count == 2 else [0.18, 0.5, 0.82]
        centres = [(x + rng.uniform(-0.03, 0.03), y + rng.uniform(-0.08, 0.08)) for x in xs]
    angle = rng.uniform(-0.3, 0.3)
    for cx, cy in centres:
        colour = _shade(COLOURS[scene.colour], rng, 18)
        _draw_shape(pen, scene.shape, cx * size, cy * size, radius, colour, angle)
    return img


def _shade(rgb: tuple[int, int, int], rng: random.Random, spread: int) -> tuple[int, int, int]:
    r, g, b = (max(0, min(255, c + rng.randint(-spread, spread))) for c in rgb)
    return (r, g, b)


def _draw_shape(
    pen: ImageDraw.ImageDraw,
    shape: str,
    x: float,
    y: float,
    r: float,
    colour: tuple[int, int, int],
    angle: float,
) -> None:
    import math

    def rotated(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        cos, sin = math.cos(angle), math.sin(angle)
        return [(x + px * cos - py * sin, y + px * sin + py * cos) for px, py in points]

    if shape == "circle":
        pen.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    elif shape == "square":
        s = r * 0.9
        pen.polygon(rotated([(-s, -s), (s, -s), (s, s), (-s, s)]), fill=colour)
    elif shape == "triangle":
        pts = [
            (r * math.cos(a), r * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)
        ]
        pen.polygon(rotated(pts), fill=colour)
    elif shape == "star":
        pts = []
        for i in range(10):
            rad = r if i % 2 == 0 else r * 0.45
            a = -math.pi / 2 + i * math.pi / 5
            pts.append((rad * math.cos(a), rad * math.sin(a)))
        pen.polygon(rotated(pts), fill=colour)
    else:  # cross
        t = r * 0.33
        pts = [(-t, -r), (t, -r), (t, -t), (r, -t), (r, t), (t, t), (t, r), (-t, r), (-t, t),
               (-r, t), (-r, -t), (-t, -t)]  # fmt: skip
        pen.polygon(rotated(pts), fill=colour)
