"""Which auto-tags a model may give, and from what score: its calibration.

A CLIP model's image-text similarity means something different for every model and every tag
(thresholds do not carry over), so each tag gets its own threshold, measured on labelled
pictures embedded by that model: the lowest score at which the tag is right at least
``target_precision`` of the time on half of the pictures, checked on the other half. A tag
that cannot reach it is left out: a wrong tag costs more trust than a missing one. The
calibration keeps each calibrated tag's text vector, so scoring needs no model at all: one
product with the image vector the index already holds.

A tag's score is the image's similarity to it less the image's mean similarity to the whole
vocabulary: every image sits closer to all texts or further from all of them, and taking that
offset away separates tags better (on the offline model's scenes, AUC of colours 0.77-0.92
raw, 0.76-0.97 so). The mean is one vector, so it is taken off the tag's vector once.

Where it lives: a model in a folder carries its own (``<folder>/auto_tags.json``); any other
model's is ``<enrichment.tags.calibrations>/<model, "/" as "--">.json``, written by
``calibrate-tags``.
"""

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

CALIBRATION_FILE = "auto_tags.json"
FORMAT = 1
# a threshold, and its check, must each rest on at least this many right pictures
MIN_HITS = 3


@dataclass(frozen=True)
class CalibratedTag:
    tag: str
    threshold: float
    vector: tuple[float, ...]
    # measured on the held-out half, at the threshold
    precision: float
    recall: float
    positives: int


@dataclass(frozen=True)
class LeftOut:
    tag: str
    reason: str


@dataclass
class TagCalibration:
    model: str
    vocabulary: str  # vocabulary_digest of what was calibrated
    target_precision: float
    made_on: str  # what pictures, said plainly
    tags: list[CalibratedTag]
    left_out: list[LeftOut] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._matrix = np.array([t.vector for t in self.tags], dtype=np.float32).reshape(
            len(self.tags), -1
        )
        self._thresholds = np.array([t.threshold for t in self.tags], dtype=np.float32)

    def tags_for(self, vector: Sequence[float], limit: int) -> list[str]:
        """The tags whose score clears their threshold, the clearest first."""
        if not self.tags:
            return []
        image = np.asarray(vector, dtype=np.float32)
        if image.shape != (self._matrix.shape[1],):
            raise ValueError(
                f"a {image.size}-d image vector against a calibration of "
                f"{self._matrix.shape[1]}-d tags (made for {self.model})"
            )
        image = image / max(float(np.linalg.norm(image)), 1e-12)
        margin = self._matrix @ image - self._thresholds
        order = np.argsort(-margin)
        return [self.tags[i].tag for i in order[:limit] if margin[i] >= 0]

    def save(self, path: Path) -> None:
        body = {
            "format": FORMAT,
            "model": self.model,
            "vocabulary": self.vocabulary,
            "target_precision": self.target_precision,
            "made_on": self.made_on,
            "tags": [{**asdict(t), "vector": [round(v, 6) for v in t.vector]} for t in self.tags],
            "left_out": [asdict(t) for t in self.left_out],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=1) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "TagCalibration":
        body = json.loads(path.read_text())
        if body.get("format") != FORMAT:
            raise ValueError(f"{path}: calibration format {body.get('format')!r}, not {FORMAT}")
        return cls(
            model=str(body["model"]),
            vocabulary=str(body["vocabulary"]),
            target_precision=float(body["target_precision"]),
            made_on=str(body["made_on"]),
            tags=[
                CalibratedTag(**{**t, "vector": tuple(float(v) for v in t["vector"])})
                for t in body["tags"]
            ],
            left_out=[LeftOut(**t) for t in body.get("left_out", [])],
        )


def calibration_path(model: str, calibrations: Path) -> Path:
    """Where this model's calibration is read from and written to."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        return folder / CALIBRATION_FILE
    return calibrations / (model.strip("/").replace("/", "--") + ".json")


def calibrate(
    image_vectors: npt.NDArray[np.float32],
    labels: Sequence[frozenset[str]],
    tags: Sequence[str],
    tag_vectors: npt.NDArray[np.float32],
    target_precision: float = 0.9,
    min_positives: int = 10,
    seed: int = 0,
) -> tuple[list[CalibratedTag], list[LeftOut]]:
    """Each tag's threshold, fitted on one half of the pictures and measured on the other.
    ``labels``: each picture's tags (a picture no tag's positive is a negative for all)."""
    if len(labels) != len(image_vectors):
        raise ValueError(f"{len(image_vectors)} vectors but {len(labels)} label sets")
    images = _unit(image_vectors)
    units = _unit(tag_vectors)
    texts = units - units.mean(axis=0)  # the score less the mean over the vocabulary
    order = list(range(len(labels)))
    random.Random(seed).shuffle(order)
    fit, check = np.array(order[::2], dtype=int), np.array(order[1::2], dtype=int)
    scores = images @ texts.T
    calibrated, left_out = [], []
    for column, tag in enumerate(tags):
        positive = np.array([tag in found for found in labels])
        if positive[fit].sum() < min_positives / 2 or positive[check].sum() < min_positives / 2:
            left_out.append(LeftOut(tag, f"{int(positive.sum())} labelled pictures, fewer "
                                         f"than {min_positives}"))  # fmt: skip
            continue
        threshold = _lowest_precise(scores[fit, column], positive[fit], target_precision)
        if threshold is None:
            left_out.append(LeftOut(tag, f"no score is right {target_precision:.0%} of the time"))
            continue
        chosen = scores[check, column] >= threshold
        hits = int((chosen & positive[check]).sum())
        precision = hits / max(int(chosen.sum()), 1)
        recall = hits / int(positive[check].sum())
        if precision < target_precision or hits < MIN_HITS:
            left_out.append(LeftOut(tag, f"right on {hits} of {int(chosen.sum())} held-out "
                                         f"pictures it was given to"))  # fmt: skip
            continue
        calibrated.append(
            CalibratedTag(
                tag=tag,
                threshold=round(float(threshold), 6),
                vector=tuple(float(v) for v in texts[column]),
                precision=round(precision, 4),
                recall=round(recall, 4),
                positives=int(positive[check].sum()),
            )
        )
    return calibrated, left_out


def _lowest_precise(
    scores: npt.NDArray[np.float32], positive: npt.NDArray[np.bool_], target: float
) -> float | None:
    """The lowest score above which at least ``target`` of the pictures are positives
    (counting at least MIN_HITS hits: one lucky picture is not a threshold)."""
    order = np.argsort(-scores)
    hits = np.cumsum(positive[order])
    precision = hits / np.arange(1, len(order) + 1)
    good = np.nonzero((precision >= target) & (hits >= MIN_HITS))[0]
    if not len(good):
        return None
    last = int(good[-1])
    # halfway to the next score: a picture scoring like the last one counted is in
    below = scores[order[last + 1]] if last + 1 < len(order) else scores[order[last]] - 1e-3
    return float((scores[order[last]] + below) / 2)


def _unit(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: npt.NDArray[np.float32] = matrix / np.maximum(norms, 1e-12)
    return unit
