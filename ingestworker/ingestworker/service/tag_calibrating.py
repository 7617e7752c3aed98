"""Calibrating auto-tags for a model on a labelled folder (``calibrate-tags``).

The folder holds one sub-folder per tag of the vocabulary (``dog/``, ``beach/``), the pictures
of that tag in it; a picture with several tags sits in each of their folders (a copy or a
link: the same bytes are one picture). Pictures in folders the vocabulary does not know are
negatives for every tag (``other/``: pictures with none of them)."""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from ingestworker.enrichers.tag_calibration import TagCalibration, calibrate
from ingestworker.enrichers.vocabulary import Concept, vocabulary_digest
from shared.embedding import Embedder

# pictures are embedded from a copy this big (the worker's preview is larger; CLIP reads 224)
LONG_SIDE = 512


@dataclass
class LabelledFolder:
    pictures: list[Path]  # one path per distinct picture
    labels: list[frozenset[str]]
    unknown: list[str]  # sub-folders naming no tag of the vocabulary (their pictures: none)
    unreadable: list[Path]


def read_labelled_folder(folder: Path, tags: Sequence[str]) -> LabelledFolder:
    known = set(tags)
    by_content: dict[str, tuple[Path, set[str]]] = {}
    unknown: set[str] = set()
    for path in sorted(p for p in folder.glob("*/*") if p.is_file()):
        label = path.parent.name
        if label not in known:
            unknown.add(label)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        found = by_content.setdefault(digest, (path, set()))[1]
        if label in known:
            found.add(label)
    pictures = [first for first, _ in by_content.values()]
    labels = [frozenset(found) for _, found in by_content.values()]
    return LabelledFolder(pictures, labels, sorted(unknown), [])


def calibrate_model(
    embedder: Embedder,
    concepts: Sequence[Concept],
    folder: LabelledFolder,
    made_on: str,
    target_precision: float,
    min_positives: int,
    batch_size: int = 32,
    progress: Callable[[int], None] = lambda done: None,
) -> TagCalibration:
    vectors, labels = [], []
    for start in range(0, len(folder.pictures), batch_size):
        images, kept = [], []
        for path, found in zip(
            folder.pictures[start : start + batch_size],
            folder.labels[start : start + batch_size],
            strict=True,
        ):
            try:
                images.append(_load(path))
                kept.append(found)
            except (OSError, ValueError, Image.DecompressionBombError):
                folder.unreadable.append(path)
        if images:
            vectors.append(embedder.embed_images(images))
            labels += kept
        progress(min(start + batch_size, len(folder.pictures)))
    if not labels:
        raise ValueError("no readable picture in the folder")
    tag_vectors = np.stack([_mean_unit(embedder.embed_texts(c.prompts)) for c in concepts])
    calibrated, left_out = calibrate(
        np.concatenate(vectors),
        labels,
        [c.tag for c in concepts],
        tag_vectors,
        target_precision=target_precision,
        min_positives=min_positives,
    )
    return TagCalibration(
        model=embedder.model_id,
        vocabulary=vocabulary_digest(list(concepts)),
        target_precision=target_precision,
        made_on=made_on,
        tags=calibrated,
        left_out=left_out,
    )


def _load(path: Path) -> Image.Image:
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((LONG_SIDE, LONG_SIDE))
    return image


def _mean_unit(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    mean: npt.NDArray[np.float32] = np.asarray(vectors, dtype=np.float32).mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)
