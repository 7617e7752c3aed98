"""The meaning side's vectors for a query: its readings embedded, moved by its weights and
exclusions (rclip's arithmetic), then towards the images it should look like and away from
those it should not (Rocchio: 1 x query + 0.75 x liked mean - 0.25 x unliked mean)."""

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from searchapi.query_plan import QueryPlan
from shared.embedding import Vectors

ROCCHIO_QUERY, ROCCHIO_LIKE, ROCCHIO_UNLIKE = 1.0, 0.75, 0.25


def mean_of(stored: Mapping[str, Sequence[float]], ids: Sequence[str]) -> Vectors | None:
    """The mean of these images' unit vectors; None for no images."""
    if not ids:
        return None
    rows = np.asarray([stored[i] for i in ids], dtype=np.float32)
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    mean: Vectors = rows.mean(axis=0)
    return mean


def meaning_vectors(
    plan: QueryPlan | None,
    text_vector: Callable[[str], Vectors],
    dim: int,
    like: Vectors | None = None,
    unlike: Vectors | None = None,
) -> tuple[Vectors, ...]:
    """One unit vector per reading of the query; none for a literal-only query without
    liked images."""
    vectors: list[Vectors] = []
    if plan is not None and plan.has_meaning:
        extra = np.zeros(dim, dtype=np.float32)
        for boost in plan.boosts:
            extra += boost.weight * text_vector(boost.text)
        for away in plan.pushed_away:
            extra -= away.weight * text_vector(away.text)
        for reading in plan.readings or ("",):
            vectors.append((text_vector(reading) if reading else 0.0) + extra)
    if like is not None:
        vectors = vectors or [np.zeros(dim, dtype=np.float32)]
        unliked = ROCCHIO_UNLIKE * unlike if unlike is not None else 0.0
        vectors = [
            (ROCCHIO_QUERY * unit(v) + ROCCHIO_LIKE * like - unliked).astype(np.float32)
            for v in vectors
        ]
    elif unlike is not None:
        vectors = [unit(v) - ROCCHIO_UNLIKE * unlike for v in vectors]
    return tuple(unit(v) for v in vectors)


def unit(vector: Vectors) -> Vectors:
    scaled: Vectors = (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)
    return scaled
