"""Held-out text → image recall of a saved model, measured through SentenceTransformer(path)."""

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from imagesearch_dev.training.scenes import Scene, render
from shared.embedding.model_card import CARD_FILE, ModelCard

EVAL_IMAGE_SIZE = 256  # larger than the model's input: the processor's resize is part of the test


def evaluate(model_dir: Path, scenes: list[Scene], seed: int) -> dict[str, float]:
    """Each caption's own image among all scenes' images: recall@1/5/10 (a hit counts any
    image whose caption is the same)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")

    def encode(items: list[Any]) -> Any:
        return model.encode(items, batch_size=64, normalize_embeddings=True)

    return recall(encode, encode, scenes, seed)


def recall(
    embed_images: Callable[[list[Any]], Any],
    embed_texts: Callable[[list[Any]], Any],
    scenes: list[Scene],
    seed: int,
) -> dict[str, float]:
    """Recall@1/5/10 of any embedder's image and text encoders on these scenes."""
    rng = random.Random(seed)
    images = [render(s, EVAL_IMAGE_SIZE, rng) for s in scenes]
    captions = [s.caption for s in scenes]
    image_emb, text_emb = np.asarray(embed_images(images)), np.asarray(embed_texts(captions))
    ranking = np.argsort(-(text_emb @ image_emb.T), axis=1)
    same = np.array([[a == b for b in captions] for a in captions])
    result = {"gallery": float(len(scenes))}
    for k in (1, 5, 10):
        hits = [same[i, ranking[i, :k]].any() for i in range(len(scenes))]
        result[f"recall@{k}"] = round(float(np.mean(hits)), 4)
    return result


def write_card(model_dir: Path, metrics: dict[str, object], architecture: str) -> None:
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    held, seen = metrics["held_out"], metrics["seen_kinds_new_renderings"]
    assert isinstance(held, dict) and isinstance(seen, dict)
    size_mb = sum(f.stat().st_size for f in model_dir.rglob("*") if f.is_file()) / 1e6
    card = f"""# tiny-clip: the offline model

A small CLIP trained by `python -m imagesearch_dev.training.train` on synthetic captioned
scenes, so that text → image search works with no model hub. It is the default model of the
local stack and the tests; production uses `laion/CLIP-ViT-B-32-laion2B-s34B-b79K`.

- Architecture: transformers `CLIPModel`; {architecture}.
- Tokenizer: the real CLIP BPE (49,408 tokens), converted offline from open_clip's vocabulary.
- Loaded exactly like the real model: `SentenceTransformer(path)`. On disk: {size_mb:.1f} MB.
- Training: {metrics["steps"]} steps of batch {metrics["batch"]}, {metrics["train_minutes"]} min on
  the CPU; scenes rendered on the fly (shape, colour, size, count, position, background).
- It knows only its scene vocabulary: 8 colours, 5 shapes, 2 sizes, 1 to 3 objects, 5 positions,
  3 backgrounds. It is not a general image model.

## Held-out text → image recall

Each caption is matched against the images of all scenes in the set (rendered at
{EVAL_IMAGE_SIZE} px and resized by the model's own image processor); a hit is its own image
(or one with the same caption) in the top k.

| set | gallery | recall@1 | recall@5 | recall@10 |
| --- | --- | --- | --- | --- |
{_row(f"scene kinds never trained on ({metrics['held_out_scene_kinds']})", held)}
{_row("trained kinds, new renderings", seen)}

Reproduce: `uv run python -m imagesearch_dev.training.train shared/models/tiny-clip`
(seed {0}, CPU; numbers vary slightly with the number of steps the time budget allows).
"""
    (model_dir / "README.md").write_text(card)
    (model_dir / CARD_FILE).write_text(json.dumps(OFFLINE_CARD.model_dump(), indent=2) + "\n")


# what the page tells its users of this model (shared.embedding.model_card)
OFFLINE_CARD = ModelCard(
    knows="This is the small offline demo model. It knows only coloured shapes: 8 colours, 5 "
    "shapes (circle, square, triangle, star, cross), small or large, one to three of them, on "
    "a white, black or grey background. It is not a general image model.",
    examples=[
        "a purple star",
        "two large red circles",
        "a small blue triangle on a black background",
        "three yellow squares",
        "an orange cross on a grey background",
    ],
)


def _row(name: str, result: dict[str, float]) -> str:
    cells = [f"{result['gallery']:.0f}"] + [f"{result[f'recall@{k}']:.3f}" for k in (1, 5, 10)]
    return f"| {name} | " + " | ".join(cells) + " |"
