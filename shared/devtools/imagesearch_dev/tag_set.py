"""The labelled folder the offline model's auto-tags are calibrated on: its scenes (colour and
shape, each a tag of the vocabulary), one sub-folder per tag, a scene in both of its tags'
folders (a hard link: the same picture), rendered at the size of a small photo's preview.

    python -m imagesearch_dev.tag_set OUT [--per-kind N]

Renderings are new (a seed of their own), so the calibration does not measure pictures the
model was trained on."""

import argparse
import os
import random
from pathlib import Path

from imagesearch_dev.training.scenes import all_scenes, render

SIZE = 384
SEED = 20261207


def write_tag_set(out: Path, per_kind: int = 1, seed: int = SEED, every: int = 1) -> int:
    """Every scene kind ``per_kind`` times (``every``: one kind in so many, for a small
    set); the number of pictures written."""
    rng = random.Random(seed)
    written = 0
    for repeat in range(per_kind):
        for number, scene in enumerate(all_scenes()[::every]):
            name = f"scene-{repeat}-{number:04d}.png"
            first = out / scene.colour / name
            first.parent.mkdir(parents=True, exist_ok=True)
            render(scene, SIZE, rng).save(first)
            also = out / scene.shape / name
            also.parent.mkdir(parents=True, exist_ok=True)
            also.unlink(missing_ok=True)
            os.link(first, also)
            written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-kind", type=int, default=1)
    args = parser.parse_args()
    print(f"{write_tag_set(args.out, args.per_kind)} pictures in {args.out}")


if __name__ == "__main__":
    main()
