"""Filing each new image under the first image it is the same picture as, or a similar shot
of (shared.library.duplicates): one vector search for a chunk, the chunk against itself, and a
keypoint match against the few candidates for the same picture (their thumbnails)."""

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from shared.errors import NotFound
from shared.ids import thumbnail_key
from shared.images.matching import Features, features, match
from shared.library.duplicates import (
    DuplicateSettings,
    Fingerprint,
    same_picture,
    same_picture_candidate,
    similar_shot,
)
from shared.storage import ObjectStore
from shared.vectors import SearchHit, VectorIndex


@dataclass(frozen=True)
class NewImage:
    image_id: str
    vector: Sequence[float]
    fingerprint: Fingerprint
    features: Features | None  # None: not described (no same-picture match for it)


@dataclass(frozen=True)
class _Known:
    """An image already filed: found in the index, or earlier in the chunk."""

    image_id: str
    cosine: float
    fingerprint: Fingerprint
    dup_of: str  # its same-picture group (its own id when it leads one)
    shot_of: str
    features: Callable[[], Features | None]


class DuplicateFiler:
    def __init__(self, index: VectorIndex, store: ObjectStore, settings: DuplicateSettings) -> None:
        self._index = index
        self._store = store
        self._settings = settings

    def file(self, images: Sequence[NewImage]) -> dict[str, dict[str, str]]:
        """Each image's `dup_of` and `shot_of` ("" when none): its group's first image."""
        if not images:
            return {}
        s = self._settings
        vectors = np.asarray([i.vector for i in images], dtype=np.float32)
        found = self._index.nearest(vectors.tolist(), s.neighbours, s.search_min_cosine)
        within = vectors @ vectors.T
        filed: dict[str, dict[str, str]] = {}
        for n, image in enumerate(images):
            known = [self._known(hit) for hit in found[n] if hit.id != image.image_id]
            known += [
                _Known(
                    other.image_id,
                    float(within[n, m]),
                    other.fingerprint,
                    filed[other.image_id]["dup_of"] or other.image_id,
                    filed[other.image_id]["shot_of"] or other.image_id,
                    lambda other=other: other.features,  # type: ignore[misc]
                )
                for m, other in enumerate(images[:n])
            ]
            filed[image.image_id] = {
                "dup_of": self._same_picture_group(image, known),
                "shot_of": self._shot_group(image, known),
            }
        return filed

    def _same_picture_group(self, image: NewImage, known: list[_Known]) -> str:
        s = self._settings
        if image.features is None:
            return ""
        candidates = [
            k
            for k in known
            if same_picture_candidate(image.fingerprint, k.fingerprint, k.cosine, s)
        ]
        for candidate in sorted(candidates, key=lambda k: -k.cosine)[: s.verify_at_most]:
            theirs = candidate.features()
            if theirs is None:
                continue
            found = match(image.features, theirs)
            if same_picture(found.matches, found.margin, s):
                return candidate.dup_of
        return ""

    def _shot_group(self, image: NewImage, known: list[_Known]) -> str:
        s = self._settings
        shots = [k for k in known if similar_shot(image.fingerprint, k.fingerprint, k.cosine, s)]
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
            lambda: self._thumbnail_features(hit.id),
        )

    def _thumbnail_features(self, image_id: str) -> Features | None:
        try:
            data = self._store.open(thumbnail_key(image_id)).read()
        except NotFound:
            return None
        with Image.open(io.BytesIO(data)) as thumbnail:
            return features(thumbnail)
