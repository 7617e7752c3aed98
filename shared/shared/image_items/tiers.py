"""The duplicate tiers an image can be grouped in, as the worker files them (ingestworker's
stages.near_duplicates says how) and the APIs return them."""

from enum import StrEnum


class Tier(StrEnum):
    same_picture = "same_picture"  # the same photo re-encoded, resized, lightly cropped
    similar_shot = "similar_shot"  # a burst, or a look-alike taken moments apart
