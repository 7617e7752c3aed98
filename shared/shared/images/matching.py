"""Whether two images show the same picture: ORB keypoints matched, and one similarity
transform (scale, turn, shift) fitted to the matches by RANSAC, as near-duplicate checks have
long been done. Two copies of one photo match over (nearly) their whole frames: the part of
either that the other does not cover is at most a thin margin. Another shot of the same scene
matches only in part, or leaves a wide margin (reframed); different images do not match.

Needs OpenCV (shared[ml]): only the worker and the benchmarks import this module."""

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# features are found on a copy of this size (the thumbnail's): cheap, and enough for copies
MATCH_PX = 256
_ORB = cv2.ORB.create(nfeatures=300, edgeThreshold=15, patchSize=15)
_MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)
MIN_KEYPOINTS = 8
RATIO = 0.8  # Lowe's ratio test
RANSAC_PX = 4.0
# smaller copies carry no keypoints ORB can describe (and its pyramid cannot shrink them)
MIN_SIDE_PX = 32


@dataclass(frozen=True)
class Features:
    points: np.ndarray  # (n, 2) float32, in a frame of `shape`
    descriptors: np.ndarray | None  # (n, 32) uint8
    shape: tuple[int, int]  # height, width


@dataclass(frozen=True)
class Match:
    matches: int  # keypoints the fitted transform explains
    margin: float  # the widest strip of either image the other does not cover (0..1)


def features(image: Image.Image) -> Features:
    gray = np.asarray(image.convert("L"))
    scale = MATCH_PX / max(gray.shape)
    if scale < 1:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    if min(gray.shape) < MIN_SIDE_PX:
        return Features(
            np.zeros((0, 2), np.float32), None, (int(gray.shape[0]), int(gray.shape[1]))
        )
    keypoints, descriptors = _ORB.detectAndCompute(gray, None)
    points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
    return Features(points, descriptors, (int(gray.shape[0]), int(gray.shape[1])))


def match(a: Features, b: Features) -> Match:
    none = Match(0, 1.0)
    if a.descriptors is None or b.descriptors is None:
        return none
    if len(a.points) < MIN_KEYPOINTS or len(b.points) < MIN_KEYPOINTS:
        return none
    pairs = _MATCHER.knnMatch(a.descriptors, b.descriptors, k=2)
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
