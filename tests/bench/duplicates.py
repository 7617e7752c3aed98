"""`make bench-duplicates`: precision and recall of the two duplicate tiers on a generated,
labelled set, with the production decision (ingestworker.stages.near_duplicates) and the
offline model through the production embedding path.

The set:
- 21 real photos (scikit-image's bundled ones, up to 1024 px), each saved with an EXIF date;
- 8 copies of each: JPEG quality 40-95, scaled 0.25-1, cropped up to 10 %, EXIF stripped:
  the same picture as the photo and as each other;
- 3 reframings of each (15-35 % of the width cut off one side), taken 1-3 s after it: other
  photos of the same scene, similar shots of it and of its copies;
- 60 synthetic scenes (20 captions, 3 renderings each with their own shading, size and
  placement): look-alikes; each caption's three taken within a minute (similar shots), the
  captions days apart.
Every pair is labelled same picture, similar shot or neither. Writes
tests/bench/results/duplicates.{json,md}."""

import io
import itertools
import os
import platform
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from skimage import data

from imagesearch_dev.training.scenes import all_scenes, render
from ingestworker.settings import DuplicateSettings
from ingestworker.stages.near_duplicates import (
    Fingerprint,
    Keypoints,
    keypoints,
    match,
    perceptual_hash,
    same_picture,
    same_picture_candidate,
    similar_shot,
)
from shared.config import EmbeddingSettings
from shared.embedding import load_embedder
from shared.image_items.tiers import Tier
from shared.images import decode_image, derive
from tests.bench.report import save_results
from tests.support.images import dated_jpeg
from tests.support.paths import MODEL_DIR

PHOTOS = [
    "astronaut", "coffee", "chelsea", "rocket", "camera", "hubble_deep_field",
    "immunohistochemistry", "moon", "retina", "logo", "clock", "coins", "colorwheel", "brick",
    "grass", "gravel", "page", "text", "cell", "microaneurysms", "motorcycle",
]  # fmt: skip
COPIES, REFRAMINGS, SCENES, RENDERINGS = 8, 3, 20, 3
T0 = 1_600_000_000
TARGET_SAME_PRECISION = 0.99


@dataclass(frozen=True)
class Sample:
    name: str
    source: str  # the photo or scene it comes from
    kind: str  # original, copy, reframing, scene
    taken_at: int | None
    jpeg: bytes


def photo(name: str) -> Image.Image:
    array = np.asarray(
        data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    )
    if array.ndim == 2:
        array = np.stack([array] * 3, -1)
    if array.dtype != np.uint8:
        low, high = float(array.min()), float(array.max())
        array = (255 * (array - low) / (high - low + 1e-9)).astype(np.uint8)
    image = Image.fromarray(array[..., :3]).convert("RGB")
    image.thumbnail((1024, 1024))
    return image


def copy_of(image: Image.Image, rng: random.Random) -> bytes:
    w, h = image.size
    cut = rng.uniform(0, 0.1)
    box = (
        int(w * cut * rng.random()),
        int(h * cut * rng.random()),
        w - int(w * cut * rng.random()),
        h - int(h * cut * rng.random()),
    )
    scale = rng.uniform(0.25, 1)
    cropped = image.crop(box)
    size = (max(16, int(cropped.width * scale)), max(16, int(cropped.height * scale)))
    return dated_jpeg(cropped.resize(size, Image.Resampling.BICUBIC), rng.randint(40, 95))


def samples(rng: random.Random) -> list[Sample]:
    out: list[Sample] = []
    for n, name in enumerate(PHOTOS):
        image, taken = photo(name), T0 + n * 86_400
        out.append(Sample(f"{name}", name, "original", taken, dated_jpeg(image, 92, taken)))
        out += [
            Sample(f"{name}/copy{c}", name, "copy", None, copy_of(image, rng))
            for c in range(COPIES)
        ]
        for r in range(REFRAMINGS):
            w, h = image.size
            cut = rng.uniform(0.15, 0.35)
            # each from another side: no two reframings are the same picture either
            framed = image.crop(
                [
                    (int(w * cut), 0, w, h),
                    (0, 0, w - int(w * cut), h),
                    (0, int(h * cut), w, h),
                ][r % 3]
            )
            when = taken + r + 1
            out.append(
                Sample(f"{name}/frame{r}", name, "reframing", when, dated_jpeg(framed, 90, when))
            )
    for n, scene in enumerate(all_scenes()[:: max(1, len(all_scenes()) // SCENES)][:SCENES]):
        for r in range(RENDERINGS):
            when = T0 + 400 * 86_400 + n * 86_400 + r * 20
            image = render(scene, 384, rng)
            out.append(
                Sample(f"scene{n}/{r}", f"scene{n}", "scene", when, dated_jpeg(image, 90, when))
            )
    return out


def truth(a: Sample, b: Sample, window_s: int) -> Tier | None:
    if a.source != b.source:
        return None
    if {a.kind, b.kind} <= {"original", "copy"}:
        return Tier.same_picture
    # a similar shot by its capture time: a copy has lost its date, so it can be none
    if a.taken_at is None or b.taken_at is None:
        return None
    return Tier.similar_shot if abs(a.taken_at - b.taken_at) <= window_s else None


def decide(
    older: tuple[Fingerprint, Keypoints],
    newer: tuple[Fingerprint, Keypoints],
    cosine: float,
    settings: DuplicateSettings,
) -> Tier | None:
    """What the worker decides when ``newer`` arrives with ``older`` among its neighbours:
    ``older``'s keypoints come from its stored thumbnail, as there
    (ingestworker.stages.near_duplicates)."""
    if same_picture_candidate(newer[0], older[0], cosine, settings):
        found = match(newer[1], older[1])
        if same_picture(found, settings):
            return Tier.same_picture
    if similar_shot(newer[0], older[0], cosine, settings):
        return Tier.similar_shot
    return None


def stored_features(encoded: bytes) -> Keypoints:
    """As a later image's filing reads this one's: from its stored thumbnail."""
    with Image.open(io.BytesIO(encoded)) as thumbnail:
        return keypoints(thumbnail)


def main() -> int:
    rng = random.Random(17)
    started = time.perf_counter()
    set_ = samples(rng)
    embedder = load_embedder(EmbeddingSettings(model=str(MODEL_DIR), device="cpu"))
    decoded = [decode_image(s.jpeg, long_side=1280) for s in set_]
    vectors = embedder.embed_images([d.image for d in decoded])
    # as the worker: hash and keypoints from the thumbnail it makes
    thumbnails = [derive(d.image) for d in decoded]
    prints = [
        Fingerprint(perceptual_hash(t.thumbnail_image), d.taken_at)
        for t, d in zip(thumbnails, decoded, strict=True)
    ]
    as_new = [(p, keypoints(t.thumbnail_image)) for p, t in zip(prints, thumbnails, strict=True)]
    as_stored = [(p, stored_features(t.thumbnail)) for p, t in zip(prints, thumbnails, strict=True)]
    settings = DuplicateSettings()
    sims = vectors @ vectors.T
    counts = {tier: {"tp": 0, "fp": 0, "fn": 0} for tier in Tier}
    mistakes: list[str] = []
    for i, j in itertools.combinations(range(len(set_)), 2):
        want = truth(set_[i], set_[j], settings.shot_window_s)
        got = decide(as_stored[i], as_new[j], float(sims[i, j]), settings)
        for tier in Tier:
            if got == tier and want == tier:
                counts[tier]["tp"] += 1
            elif got == tier:
                counts[tier]["fp"] += 1
                if len(mistakes) < 12:
                    mistakes.append(f"{set_[i].name} ~ {set_[j].name}: called {tier}, is {want}")
            elif want == tier:
                counts[tier]["fn"] += 1
    tiers = {}
    for tier, c in counts.items():
        precision = c["tp"] / max(c["tp"] + c["fp"], 1)
        recall = c["tp"] / max(c["tp"] + c["fn"], 1)
        tiers[tier.value] = {**c, "precision": round(precision, 4), "recall": round(recall, 4)}
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
        "model": "the offline model (shared/models/tiny-clip), production embedding path",
        "images": len(set_),
        "pairs": len(set_) * (len(set_) - 1) // 2,
        "settings": settings.model_dump(),
        "tiers": tiers,
        "false_positives_seen": mistakes,
        "target": {
            "same_picture_precision": TARGET_SAME_PRECISION,
            "met": tiers["same_picture"]["precision"] >= TARGET_SAME_PRECISION,
        },
        "took_s": round(time.perf_counter() - started, 1),
    }
    save_results("duplicates", report, markdown(report))
    return 0


def markdown(r: dict[str, Any]) -> str:
    lines = [
        "# Duplicate tiers",
        "",
        f"{r['images']} images, {r['pairs']:,} labelled pairs; {r['model']}; {r['machine']}; "
        f"{r['date']}.",
        "",
        "| tier | precision | recall | true pairs found | wrong pairs | pairs missed |",
        "|---|---|---|---|---|---|",
        *[
            f"| {name} | {t['precision']} | {t['recall']} | {t['tp']} | {t['fp']} | {t['fn']} |"
            for name, t in r["tiers"].items()
        ],
        "",
        f"Target: same picture precision ≥ {r['target']['same_picture_precision']}: "
        f"{'met' if r['target']['met'] else 'NOT met'}.",
        "",
        f"Settings: {r['settings']}",
        "",
    ]
    if r["false_positives_seen"]:
        lines += ["Wrong pairs (first few):", ""]
        lines += [f"- {m}" for m in r["false_positives_seen"]] + [""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
