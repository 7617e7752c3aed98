"""The auto-tags part of `make bench-enrich`: how right the offline model's calibrated tags
are on scenes it was neither trained nor calibrated on, and what scoring costs.

The offline model's calibration (shared/models/tiny-clip/auto_tags.json, `make
calibrate-tags-offline`) says, per tag, its threshold and the precision and recall on the
held-out half of its calibration set. Here a new rendering of every scene kind (a seed of its
own) is embedded by the model as the worker runs it, tagged by the enricher from the vector,
and each tag's precision and recall measured again; "wrong tags per 100 pictures" counts
every tag given that the picture's scene does not have. The cost is the enricher's time per
picture with a calibration the size of the real CLIP's (every tag of the vocabulary, 512-d)."""

import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from imagesearch_dev.training.scenes import all_scenes, render
from ingestworker.enrichers import EnrichTarget, TagEnricher
from ingestworker.enrichers.tag_calibration import (
    CalibratedTag,
    TagCalibration,
    calibration_path,
)
from ingestworker.enrichers.tags import TagSettings
from ingestworker.enrichers.vocabulary import shipped_vocabulary, vocabulary_digest
from shared.config import EmbeddingSettings
from shared.embedding import load_embedder
from tests.support.paths import MODEL_DIR

OFFLINE_MODEL = MODEL_DIR
SEED = 99  # neither the training's nor the calibration's
SIZE = 384
COST_PICTURES = 2000


def auto_tags() -> dict[str, Any]:
    calibration = TagCalibration.load(calibration_path(str(OFFLINE_MODEL), Path("-")))
    enricher = TagEnricher(str(OFFLINE_MODEL), TagSettings())
    embedder = load_embedder(EmbeddingSettings(model=str(OFFLINE_MODEL)))
    rng = random.Random(SEED)
    scenes = all_scenes()
    given: list[list[str]] = []
    for start in range(0, len(scenes), 32):
        batch = scenes[start : start + 32]
        vectors = embedder.embed_images([render(s, SIZE, rng) for s in batch])
        for vector in vectors:
            outcome = enricher(EnrichTarget("x", {"vector": [float(v) for v in vector]}))
            given.append(list(outcome.fields.get("auto_tags", [])))  # type: ignore[call-overload]
    per_tag = {}
    for tag in calibration.tags:
        truth = [tag.tag in (s.colour, s.shape) for s in scenes]
        chosen = [tag.tag in found for found in given]
        hits = sum(t and c for t, c in zip(truth, chosen, strict=True))
        per_tag[tag.tag] = {
            "threshold": tag.threshold,
            "calibration_precision": tag.precision,
            "calibration_recall": tag.recall,
            "precision": round(hits / max(sum(chosen), 1), 4),
            "recall": round(hits / max(sum(truth), 1), 4),
            "given": sum(chosen),
        }
    wrong = sum(
        1
        for s, found in zip(scenes, given, strict=True)
        for t in found
        if t not in (s.colour, s.shape)
    )
    return {
        "model": "tiny-clip (the offline model)",
        "runtime": embedder.info()["runtime"],
        "calibrated_on": calibration.made_on,
        "target_precision": calibration.target_precision,
        "vocabulary_tags": len(shipped_vocabulary()),
        "calibrated_tags": len(calibration.tags),
        "pictures": len(scenes),
        "tags": per_tag,
        "tagged_pictures": sum(1 for found in given if found),
        "wrong_tags_per_100": round(100 * wrong / len(scenes), 2),
        "us_per_picture_full_vocabulary": scoring_cost(),
    }


def scoring_cost() -> float:
    """The enricher's time per picture against every tag of the vocabulary, 512-d."""
    concepts = shipped_vocabulary()
    rng = np.random.default_rng(0)
    vectors = rng.normal(0, 1, (len(concepts), 512)).astype(np.float32)
    tags = [
        CalibratedTag(c.tag, 0.5, tuple(float(x) for x in v), 0.9, 0.5, 10)
        for c, v in zip(concepts, vectors, strict=True)
    ]
    calibration = TagCalibration("cost", vocabulary_digest(concepts), 0.9, "random", tags)
    enricher = TagEnricher("cost", TagSettings())
    enricher._calibration, enricher._loaded = calibration, True  # the file's parse is not timed
    images = [[float(x) for x in v] for v in rng.normal(0, 1, (COST_PICTURES, 512))]
    began = time.perf_counter()
    for vector in images:
        enricher(EnrichTarget("x", {"vector": vector}))
    return round(1e6 * (time.perf_counter() - began) / COST_PICTURES, 1)


def auto_tags_markdown(t: dict[str, Any]) -> str:
    rows = [
        "| tag | threshold | precision (calibration's held-out half) | recall (same) | "
        "precision (new scenes) | recall (new scenes) | given |",
        "|---|---|---|---|---|---|---|",
    ]
    for tag, r in t["tags"].items():
        rows.append(
            f"| {tag} | {r['threshold']} | {r['calibration_precision']:.3f} | "
            f"{r['calibration_recall']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | "
            f"{r['given']} |"
        )
    return (
        "## Auto-tags\n\n"
        f"Model: {t['model']} ({t['runtime']}). Calibrated on {t['calibrated_on']}; target "
        f"precision {t['target_precision']:.0%}. Of the vocabulary's {t['vocabulary_tags']} "
        f"tags, **{t['calibrated_tags']} reach it** with this model (it knows only its "
        "scenes); the others are never given. Measured again on "
        f"{t['pictures']:,} new scenes (another seed): {t['tagged_pictures']} pictures "
        f"tagged, **{t['wrong_tags_per_100']} wrong tags per 100 pictures**.\n\n"
        + "\n".join(rows)
        + f"\n\nScoring costs **{t['us_per_picture_full_vocabulary']} µs a picture** against "
        "every tag of the vocabulary at 512-d (the real CLIP's size): no model runs.\n"
    )
