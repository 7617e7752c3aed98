"""One ranked list from the meaning side's and the keyword side's, each best first.

Both give a relevance in 0..1 (1: first on every side that ran), which autocut and the page
read:
- ``rrf``: reciprocal rank fusion, sum of 1 / (k + rank) over the sides (ranks from 1; equal
  scores share a rank, so the order never depends on how a server broke a tie), a keyword
  hit's term scaled by its keyword score (how much of the query it holds: a word of ten
  found is little evidence), divided by its best possible value;
- ``weighted``: the meaning score divided by the side's best, the keyword score as it is
  (0..1 already: searchapi.ranking), then a weighted sum (the keyword side weighs
  ``keyword_weight``), divided by the weights' sum.
Dividing by the best (never min-max) keeps a hit's relevance the same however deep a side
was read, so every page agrees on the order.
"""

from collections.abc import Sequence
from typing import Literal

Fusion = Literal["rrf", "weighted"]
Ranked = Sequence[tuple[str, float]]  # (id, score), best first
# scores are compared (and shown) at this precision: equal vectors can differ in the last
# float bits; scores equal at it share a rank
SCORE_DIGITS = 6


def fuse(
    meaning: Ranked,
    keywords: Ranked,
    method: Fusion,
    keyword_weight: float = 0.5,
    rrf_k: int = 60,
) -> dict[str, float]:
    """Relevance by id, for every id either side holds."""
    weighted = ((meaning, 1 - keyword_weight), (keywords, keyword_weight))
    sides = [(side, weight) for side, weight in weighted if side]
    if not sides:
        return {}
    fused: dict[str, float] = {}
    if method == "rrf":
        best = sum(1 / (rrf_k + 1) for _ in sides)
        for side, _ in sides:
            scores = dict(side)
            for image_id, rank in _ranks(side):
                evidence = 1.0 if side is meaning else min(max(scores[image_id], 0.0), 1.0)
                fused[image_id] = fused.get(image_id, 0.0) + evidence / (rrf_k + rank) / best
        return fused
    total = sum(weight for _, weight in sides) or 1.0
    for side, weight in sides:
        top = side[0][1] if side is meaning else 1.0
        for image_id, score in side:
            share = min(score / top, 1.0) if top > 0 else 0.0
            fused[image_id] = fused.get(image_id, 0.0) + weight * max(share, 0.0) / total
    return fused


def _ranks(side: Ranked) -> list[tuple[str, int]]:
    """Competition ranks (1, 2, 2, 4) of a list best first."""
    ranks: list[tuple[str, int]] = []
    previous: float | None = None
    rank = 0
    for position, (image_id, score) in enumerate(side, start=1):
        rounded = round(score, SCORE_DIGITS)
        if rounded != previous:
            rank, previous = position, rounded
        ranks.append((image_id, rank))
    return ranks
