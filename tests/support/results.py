"""What the search API promises about a page of results."""

from typing import Any


def in_rank_order(items: list[dict[str, Any]]) -> bool:
    """Best first: by relevance when words were matched too (the fused list), else by score."""
    key = "relevance" if items and items[0]["relevance"] is not None else "score"
    values = [item[key] for item in items]
    return values == sorted(values, reverse=True)
