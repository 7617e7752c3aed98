"""Saved searches: what one matches new images by (criteria), made by searchapi when it is
saved and read by the worker, which matches every new image against all of them."""

from shared.saved_searches.criteria import ALBUMS, MatchCriteria

__all__ = ["ALBUMS", "MatchCriteria"]
