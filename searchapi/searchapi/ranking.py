"""One window of ranked hits for a query: the meaning side (nearest vectors, an image scoring
its best reading), the keyword side (BM25 over the index's words, a hit kept only when its
fields explain it), both filtered the same way and fused (searchapi.fusion).

The keyword side's score is how much of the query a hit holds literally (coverage, 0..1),
squared (a hit holding one word of a six-word description is faint evidence, one holding
every word strong: make bench-relevance measured linear coverage letting such faint matches
outrank the right picture), half of it scaled by BM25 against the best hit, so rare words
count more among hits of equal coverage. A hit holding every term whole comes before the
rest (an exact file name, tag or word first): relevance = (fused + 1 if it does) / 2, so
above 0.5 means "holds every word". Coverage is read from each candidate's own words,
whichever side found it (an image found by meaning that holds the words counts as holding
them), and a hit found by its words comes with its vector, so it is scored by its own cosine:
a hit's relevance does not depend on how deep either side was read.

A query without keywords ranks as before the keyword side existed: by cosine, and min_score
is a range search. With keywords, min_score still bounds the meaning score: an image holding
every word of the query is kept whatever its cosine, one holding some of them only when its
cosine passes too.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

import numpy as np

from searchapi.fusion import SCORE_DIGITS, Fusion, fuse
from searchapi.matching import coverage, is_excluded
from searchapi.query_language import Term
from searchapi.schemas import SearchOptions
from shared.embedding import Vectors
from shared.vectors import ImageFilter, SearchHit, VectorIndex

# a hit holds every term of the query whole (coverage, with float rounding)
WHOLE = 1 - 1e-9
# partial literal evidence counts as coverage to this power
PARTIAL_POWER = 2


@dataclass(frozen=True)
class WordLookup:
    """A keyword search under way: its depth and filter, and its hits to come."""

    depth: int
    where: ImageFilter
    hits: Future[list[SearchHit]]


@dataclass(frozen=True)
class SearchQuery:
    """A query ready to rank: its meaning vectors (one per reading of its ORs; none for a
    literal-only query) and what the keyword side looks for."""

    vectors: tuple[Vectors, ...]
    keyword_tokens: tuple[str, ...] = ()
    clauses: tuple[tuple[Term, ...], ...] = ()  # the literal terms (query_plan.QueryPlan)
    excluded: tuple[Term, ...] = ()
    # the keyword side, started before the query was embedded (Ranker.look_up_words)
    words: WordLookup | None = field(default=None, compare=False)

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(term for clause in self.clauses for term in clause)


@dataclass(frozen=True)
class Ranked:
    hits: list[SearchHit]  # in (score, id) order; score: cosine, or the fused relevance
    semantic: dict[str, float] = field(default_factory=dict)  # cosine, where the window has it
    fused: bool = False


class Ranker:
    def __init__(
        self,
        index: VectorIndex,
        fusion: Fusion,
        keyword_weight: float,
        rrf_k: int,
        candidates: int,
        executor: Executor,
    ) -> None:
        """``candidates``: how deep the keyword side is read when both run, at least the
        page (an image holding some of the words that neither side ranks first can still
        make the page). ``executor`` runs the keyword side while the meaning side runs in
        the caller's thread."""
        self._index = index
        self._executor = executor
        self._fusion: Fusion = fusion
        self._keyword_weight = keyword_weight
        self._rrf_k = rrf_k
        self._candidates = candidates

    @property
    def has_keywords(self) -> bool:
        return bool(self._index.has_keywords)

    def look_up_words(
        self, tokens: Sequence[str], window: int, with_meaning: bool, where: ImageFilter
    ) -> WordLookup | None:
        """Start the keyword side of a query whose vectors are still to come: it runs while
        the text is embedded, and ``rank`` takes its hits when it asks the same."""
        if not tokens or not self.has_keywords:
            return None
        depth = self._keyword_depth(window, with_meaning)
        hits = self._executor.submit(self._index.keyword_search, tokens, depth, where, with_meaning)
        return WordLookup(depth, where, hits)

    def _keyword_depth(self, window: int, with_meaning: bool) -> int:
        return max(window, self._candidates) if with_meaning else window

    def rank(self, query: SearchQuery, window: int, options: SearchOptions) -> Ranked:
        keep = _keeper(query, options)
        both = bool(query.keyword_tokens and self.has_keywords)
        deep = self._keyword_depth(window, bool(query.vectors)) if both else window
        pending: Future[list[SearchHit]] | None = None
        if both:
            started = query.words
            pending = (
                started.hits
                if started and started.depth == deep and started.where == options.filter
                else self._executor.submit(
                    self._index.keyword_search,
                    query.keyword_tokens,
                    deep,
                    options.filter,
                    bool(query.vectors),
                )
            )
        # weighted fusion scores a hit by its own cosine (over the best): an image the meaning
        # side ranks below the page and that holds no word of the query cannot rise into it,
        # so that side reads the page only; rrf scores ranks, read as deep as the keyword side
        # so that every page within it agrees
        depth = window if self._fusion == "weighted" else deep
        meaning = [h for h in self._meaning(query.vectors, depth, options) if keep(h)]
        if pending is None:
            return Ranked(sorted(meaning, key=rank_key), {h.id: h.score for h in meaning})
        return self._fused(query, meaning, pending.result(), window, options, keep)

    def _fused(
        self,
        query: SearchQuery,
        meaning: list[SearchHit],
        found: list[SearchHit],
        window: int,
        options: SearchOptions,
        keep: Callable[[SearchHit], bool],
    ) -> Ranked:
        kept = [h for h in found if keep(h)]
        # a candidate's cosine and coverage are its own, whichever side found it: its
        # relevance does not depend on how deep the sides were read, so pages agree
        semantic = {h.id: h.score for h in meaning} | _cosines(query.vectors, kept)
        fields = {h.id: h.fields for h in kept} | {h.id: h.fields for h in meaning}
        held = {i: coverage(query.clauses, f) for i, f in fields.items()}
        if not any(held.values()) and query.vectors:  # nothing literal: the meaning side alone
            return Ranked(sorted(meaning, key=rank_key)[:window], semantic)
        bm25 = {h.id: h.score for h in kept}
        by_meaning_ids = {h.id for h in meaning}
        # a keyword hit the query's words do not explain (held 0) is no hit
        candidates = [h.id for h in meaning] + [
            i for i in bm25 if held[i] > 0 and i not in by_meaning_ids
        ]
        if options.min_score is not None and query.vectors:
            candidates = [
                i
                for i in candidates
                if held[i] >= WHOLE or semantic.get(i, -1.0) >= options.min_score
            ]
        best = max((bm25[i] for i in candidates if i in bm25), default=1.0) or 1.0
        literal = sorted(
            (
                (i, held[i] ** PARTIAL_POWER * (0.5 + 0.5 * bm25.get(i, 0.0) / best))
                for i in candidates
                if held[i] > 0
            ),
            key=lambda pair: (-pair[1], pair[0]),
        )
        by_meaning = sorted(
            ((i, semantic[i]) for i in candidates if i in semantic),
            key=lambda pair: (-round(pair[1], SCORE_DIGITS), pair[0]),
        )
        fused = fuse(by_meaning, literal, self._fusion, self._keyword_weight, self._rrf_k)
        hits = [
            SearchHit(i, (score + (held[i] >= WHOLE)) / 2, fields[i]) for i, score in fused.items()
        ]
        return Ranked(sorted(hits, key=rank_key), semantic, fused=True)

    def _meaning(
        self, vectors: Sequence[Vectors], window: int, options: SearchOptions
    ) -> list[SearchHit]:
        best: dict[str, SearchHit] = {}
        for vector in vectors:
            for hit in self._index.search(
                vector.tolist(), window, where=options.filter, min_score=options.min_score
            ):
                if hit.id not in best or hit.score > best[hit.id].score:
                    best[hit.id] = hit
        return sorted(best.values(), key=rank_key)[:window]


def _cosines(vectors: Sequence[Vectors], hits: Sequence[SearchHit]) -> dict[str, float]:
    """The meaning score of hits found by their words, from the vectors they came with."""
    stored = [h for h in hits if h.vector is not None]
    if not vectors or not stored:
        return {}
    rows = np.asarray([h.vector for h in stored], dtype=np.float32)
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    best = (rows @ np.stack(vectors).T).max(axis=1)
    return {h.id: float(s) for h, s in zip(stored, best, strict=True)}


def rank_key(hit: SearchHit) -> tuple[float, str]:
    return (-round(hit.score, SCORE_DIGITS), hit.id)


def _keeper(query: SearchQuery, options: SearchOptions) -> Callable[[SearchHit], bool]:
    left_out = set(options.filter.exclude_ids)

    def keep(hit: SearchHit) -> bool:
        return hit.id not in left_out and not (
            query.excluded and is_excluded(query.excluded, hit.fields)
        )

    return keep
