"""Near duplicates, in tiers. Exact copies are one id already (content ids); beyond that:

- same picture: the same photo re-encoded, resized, cropped by at most a tenth on a side, or
  with its metadata changed. Candidates are close in CLIP space with close perceptual hashes
  (DCT of the luminance, 64 bits); a keypoint match then decides: ORB keypoints matched, and
  one similarity transform (scale, turn, shift) fitted to the matches by RANSAC. Two copies of
  one photo match over (nearly) their whole frames; another shot of the same scene matches only
  in part, or leaves a wide margin (reframed). A hash alone calls flat look-alikes (a red
  circle and a red square on white) the same, and a vector alone calls any two shots of a
  scene the same.
- similar shot: a burst, or a look-alike taken moments apart: close vectors, dates taken
  within a few minutes of each other (both must have one).

FileDuplicates files each new image under the first image it is the same picture as
(`dup_of`) or a similar shot of (`shot_of`): one vector search for a chunk, the chunk against
itself, and a keypoint match against the few candidates for the same picture (their stored
thumbnails). The APIs only read the groups (shared.image_items.Tier)."""

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import imagehash
import numpy as np
from PIL import Image

from ingestworker.settings import DuplicateSettings
from ingestworker.stages.batch import BatchOutcome, Row
from shared.errors import NotFound
from shared.ids import thumbnail_key
from shared.storage import ObjectStore
from shared.vectors import SearchHit, VectorIndex

# keypoints are found on a copy of this size (the thumbnail's): cheap, and enough for copies
MATCH_PX = 256
MIN_KEYPOINTS = 8
RATIO = 0.8  # Lowe's ratio test
RANSAC_PX = 4.0
# smaller copies carry no keypoints ORB can describe (and its pyramid cannot shrink them)
MIN_SIDE_PX = 32


# --- fingerprints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fingerprint:
    phash: str  # hex, HASH_BITS bits; "" when unknown (indexed before hashes were kept)
    taken_at: int | None


@dataclass(frozen=True)
class Keypoints:
    points: np.ndarray  # (n, 2) float32, in a frame of `shape`
    descriptors: np.ndarray | None  # (n, 32) uint8
    shape: tuple[int, int]  # height, width


@dataclass(frozen=True)
class Match:
    matches: int  # keypoints the fitted transform explains
    margin: float  # the widest strip of either image the other does not cover (0..1)


class _OpenCV(threading.local):
    """OpenCV's detector and matcher keep state between calls: one of each per thread (the
    prepare threads describe images while the writer thread matches them)."""

    def __init__(self) -> None:
        self.orb = cv2.ORB.create(nfeatures=300, edgeThreshold=15, patchSize=15)
        self.matcher = cv2.BFMatcher(cv2.NORM_HAMMING)


_opencv = _OpenCV()


def perceptual_hash(image: Image.Image) -> str:
    return str(imagehash.phash(image))


def hash_distance(a: str, b: str) -> int | None:
    if not a or not b:
        return None
    return (int(a, 16) ^ int(b, 16)).bit_count()


def keypoints(image: Image.Image) -> Keypoints:
    gray = np.asarray(image.convert("L"))
    scale = MATCH_PX / max(gray.shape)
    if scale < 1:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    shape = (int(gray.shape[0]), int(gray.shape[1]))
    if min(gray.shape) < MIN_SIDE_PX:
        return Keypoints(np.zeros((0, 2), np.float32), None, shape)
    found, descriptors = _opencv.orb.detectAndCompute(gray, None)
    points = np.array([k.pt for k in found], dtype=np.float32).reshape(-1, 2)
    return Keypoints(points, descriptors, shape)


def match(a: Keypoints, b: Keypoints) -> Match:
    none = Match(0, 1.0)
    if a.descriptors is None or b.descriptors is None:
        return none
    if len(a.points) < MIN_KEYPOINTS or len(b.points) < MIN_KEYPOINTS:
        return none
    pairs = _opencv.matcher.knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_KEYPOINTS:
        return none
    source = np.array([a.points[g.queryIdx] for g in good], dtype=np.float32)
    target = np.array([b.points[g.trainIdx] for g in good], dtype=np.float32)
    transform, inliers = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX
    )
    if transform is None or inliers is None:
        return none
    back = cv2.invertAffineTransform(transform)
    margin = max(_uncovered(transform, a.shape, b.shape), _uncovered(back, b.shape, a.shape))
    return Match(int(inliers.sum()), margin)


def _uncovered(transform: np.ndarray, source: tuple[int, int], target: tuple[int, int]) -> float:
    """The widest strip of ``target`` (a fraction of its side) that ``source``, mapped onto
    it, leaves uncovered."""
    height, width = source
    corners = np.array(
        [[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32
    ).reshape(-1, 1, 2)
    mapped = cv2.transform(corners, transform).reshape(-1, 2)
    rows, cols = target
    return float(
        max(
            mapped[:, 0].min() / cols,
            mapped[:, 1].min() / rows,
            1 - mapped[:, 0].max() / cols,
            1 - mapped[:, 1].max() / rows,
            0.0,
        )
    )


# --- the tiers --------------------------------------------------------------------------------


def same_picture_candidate(
    a: Fingerprint, b: Fingerprint, cosine: float, settings: DuplicateSettings
) -> bool:
    bits = hash_distance(a.phash, b.phash)
    return (
        bits is not None
        and bits <= settings.candidate_hash_bits
        and cosine >= settings.candidate_min_cosine
    )


def same_picture(found: Match, settings: DuplicateSettings) -> bool:
    return found.matches >= settings.min_matches and found.margin <= settings.max_margin


def similar_shot(
    a: Fingerprint, b: Fingerprint, cosine: float, settings: DuplicateSettings
) -> bool:
    return (
        cosine >= settings.shot_min_cosine
        and a.taken_at is not None
        and b.taken_at is not None
        and abs(a.taken_at - b.taken_at) <= settings.shot_window_s
    )


# --- the stage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    """An image already filed: found in the index, or earlier in the chunk."""

    image_id: str
    cosine: float
    fingerprint: Fingerprint
    dup_of: str  # its same-picture group (its own id when it leads one)
    shot_of: str
    keypoints: Callable[[], Keypoints | None]


class FileDuplicates:
    def __init__(self, index: VectorIndex, store: ObjectStore, settings: DuplicateSettings) -> None:
        self._index = index
        self._store = store
        self._rules = settings

    def __call__(self, rows: list[Row], outcome: BatchOutcome) -> list[Row]:
        """Each row with its `dup_of` and `shot_of` ("" when none): its group's first image."""
        if not rows:
            return []
        rules = self._rules
        vectors = np.asarray([row.vector for row in rows], dtype=np.float32)
        found = self._index.nearest(vectors.tolist(), rules.neighbours, rules.search_min_cosine)
        within = vectors @ vectors.T
        prints = [Fingerprint(row.image.phash, row.image.decoded.taken_at) for row in rows]
        filed: list[Row] = []
        for n, row in enumerate(rows):
            known = [self._known(hit) for hit in found[n] if hit.id != row.image_id]
            known += [
                _Known(
                    other.image_id,
                    float(within[n, m]),
                    prints[m],
                    other.dup_of or other.image_id,
                    other.shot_of or other.image_id,
                    lambda other=other: other.image.keypoints,  # type: ignore[misc]
                )
                for m, other in enumerate(filed)
            ]
            filed.append(
                replace(
                    row,
                    dup_of=self._same_picture_group(row, prints[n], known),
                    shot_of=self._shot_group(prints[n], known),
                )
            )
        return filed

    def _same_picture_group(self, row: Row, fingerprint: Fingerprint, known: list[_Known]) -> str:
        rules, mine = self._rules, row.image.keypoints
        if mine is None:
            return ""
        candidates = [
            k for k in known if same_picture_candidate(fingerprint, k.fingerprint, k.cosine, rules)
        ]
        for candidate in sorted(candidates, key=lambda k: -k.cosine)[: rules.verify_at_most]:
            theirs = candidate.keypoints()
            if theirs is not None and same_picture(match(mine, theirs), rules):
                return candidate.dup_of
        return ""

    def _shot_group(self, fingerprint: Fingerprint, known: list[_Known]) -> str:
        rules = self._rules
        shots = [k for k in known if similar_shot(fingerprint, k.fingerprint, k.cosine, rules)]
        return max(shots, key=lambda k: k.cosine).shot_of if shots else ""

    def _known(self, hit: SearchHit) -> _Known:
        taken = hit.fields.get("taken_at")
        fingerprint = Fingerprint(
            str(hit.fields.get("phash") or ""), taken if isinstance(taken, int) else None
        )
        return _Known(
            hit.id,
            hit.score,
            fingerprint,
            str(hit.fields.get("dup_of") or hit.id),
            str(hit.fields.get("shot_of") or hit.id),
            lambda: self._thumbnail_keypoints(hit.id),
        )

    def _thumbnail_keypoints(self, image_id: str) -> Keypoints | None:
        try:
            data = self._store.open(thumbnail_key(image_id)).read()
        except NotFound:
            return None
        with Image.open(io.BytesIO(data)) as thumbnail:
            return keypoints(thumbnail)
