"""How well a model ranks a sample for its pseudo-queries: a query is answered at the rank of
its first relevant picture among the whole sample; recall@k counts the queries answered in
the top k, MRR averages 1/rank."""

from collections.abc import Sequence

import numpy as np

from ingestworker.evaluation.queries import PseudoQuery

KS = (1, 5, 10)


def first_relevant_ranks(
    images: np.ndarray, queries: np.ndarray, pseudo: Sequence[PseudoQuery]
) -> list[int]:
    """For each query (a row of ``queries``), the 1-based rank of its first relevant image
    among ``images`` (rows, unit vectors), by cosine."""
    scores = queries @ images.T
    ranks = []
    for row, query in zip(scores, pseudo, strict=True):
        order = np.argsort(-row, kind="stable")
        ranks.append(next(n + 1 for n, i in enumerate(order) if int(i) in query.relevant))
    return ranks


def rank_metrics(ranks: Sequence[int]) -> dict[str, float]:
    if not ranks:
        return {**{f"recall@{k}": 0.0 for k in KS}, "mrr": 0.0}
    found = np.asarray(ranks)
    return {
        **{f"recall@{k}": round(float(np.mean(found <= k)), 4) for k in KS},
        "mrr": round(float(np.mean(1.0 / found)), 4),
    }
