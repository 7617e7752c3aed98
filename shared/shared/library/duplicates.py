"""Duplicates in tiers. Exact copies are one id already (content ids); beyond that:

- same picture: the same photo re-encoded, resized, cropped by at most a tenth on a side, or
  with its metadata changed. Candidates are close in CLIP space with close perceptual hashes
  (DCT of the luminance, 64 bits); a keypoint match then decides (shared.images.matching):
  the two must match over their whole frames. A hash alone calls flat look-alikes (a red
  circle and a red square on white) the same, and a vector alone calls any two shots of a
  scene the same.
- similar shot: a burst, or a look-alike taken moments apart: close vectors, dates taken
  within a few minutes of each other (both must have one).

The worker files each new image under the first image it is the same picture as (`dup_of`)
or a similar shot of (`shot_of`)."""

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from PIL import Image

HASH_BITS = 64


class Tier(StrEnum):
    same_picture = "same_picture"
    similar_shot = "similar_shot"


class DuplicateSettings(BaseModel):
    candidate_hash_bits: int = Field(
        28, ge=0, le=HASH_BITS, description="same picture: hash bits a candidate may differ by"
    )
    candidate_min_cosine: float = Field(0.5, ge=-1, le=1, description="same picture candidates")
    min_matches: int = Field(20, ge=4, description="same picture: keypoints the match explains")
    max_margin: float = Field(
        0.10, ge=0, le=1, description="same picture: widest strip either may have beyond the other"
    )
    verify_at_most: int = Field(4, ge=1, le=64, description="candidates matched per new image")
    shot_min_cosine: float = Field(0.75, ge=-1, le=1)
    shot_window_s: int = Field(300, ge=0, description="dates taken at most this far apart")
    neighbours: int = Field(16, ge=1, le=256, description="nearest images looked at for each")

    @property
    def search_min_cosine(self) -> float:
        return min(self.candidate_min_cosine, self.shot_min_cosine)


@dataclass(frozen=True)
class Fingerprint:
    phash: str  # hex, HASH_BITS bits; "" when unknown (indexed before hashes were kept)
    taken_at: int | None


def perceptual_hash(image: "Image.Image") -> str:
    import imagehash  # the worker's dependency (shared[ml]); the APIs compare hex strings

    return str(imagehash.phash(image))


def hash_distance(a: str, b: str) -> int | None:
    if not a or not b:
        return None
    return (int(a, 16) ^ int(b, 16)).bit_count()


def same_picture_candidate(
    a: Fingerprint, b: Fingerprint, cosine: float, settings: DuplicateSettings
) -> bool:
    bits = hash_distance(a.phash, b.phash)
    return (
        bits is not None
        and bits <= settings.candidate_hash_bits
        and cosine >= settings.candidate_min_cosine
    )


def same_picture(matches: int, margin: float, settings: DuplicateSettings) -> bool:
    return matches >= settings.min_matches and margin <= settings.max_margin


def similar_shot(
    a: Fingerprint, b: Fingerprint, cosine: float, settings: DuplicateSettings
) -> bool:
    return (
        cosine >= settings.shot_min_cosine
        and a.taken_at is not None
        and b.taken_at is not None
        and abs(a.taken_at - b.taken_at) <= settings.shot_window_s
    )
