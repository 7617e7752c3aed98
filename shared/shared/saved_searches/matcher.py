"""Which saved searches a new image belongs to, from its stored row, against all of them at
once: one matrix product for the meaning side, an inverted index of the words for the keyword
side, and the filter (shared.vectors.row_filter) only for the few left.

Built once from every search's criteria and kept while they do not change; ``match`` is
thread-safe (it reads only)."""

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from shared.keywords import document
from shared.saved_searches.criteria import MatchCriteria
from shared.vectors.row_filter import row_keeps

# where a token counts: (search, clause, way)
Place = tuple[int, int, int]


class SavedSearchMatcher:
    def __init__(self, searches: Sequence[MatchCriteria]) -> None:
        self._searches = list(searches)
        readings = [(i, v) for i, s in enumerate(self._searches) for v in s.vectors]
        dim = len(readings[0][1]) if readings else 0
        # one row per reading of every search, and which search it reads
        self._reads = np.array([i for i, _ in readings], dtype=np.int64)
        self._vectors: npt.NDArray[np.float32] = np.array(
            [v for _, v in readings], dtype=np.float32
        ).reshape(len(readings), dim)
        self._min_scores = np.array(
            [self._searches[i].min_score for i, _ in readings], dtype=np.float32
        )
        # token -> the (search, clause, way) it counts for
        self._postings: dict[str, list[Place]] = defaultdict(list)
        for index, search in enumerate(self._searches):
            for c, clause in enumerate(search.clauses):
                for w, way in enumerate(clause):
                    for token in set(way):
                        self._postings[token].append((index, c, w))

    def __len__(self) -> int:
        return len(self._searches)

    def match(self, image_id: str, vector: Sequence[float], row: Mapping[str, object]) -> list[str]:
        """The ids of the searches this image (its vector and stored fields) belongs to."""
        if not self._searches:
            return []
        tokens = _tokens(row)
        candidates = self._by_meaning(vector) | self._by_words(tokens)
        return [
            self._searches[i].search_id
            for i in sorted(candidates)
            if not tokens.intersection(self._searches[i].excluded)
            and row_keeps(self._searches[i].where, image_id, row)
        ]

    def _by_meaning(self, vector: Sequence[float]) -> set[int]:
        if not len(self._reads):
            return set()
        image = np.asarray(vector, dtype=np.float32)
        if image.shape != (self._vectors.shape[1],):
            raise ValueError(
                f"a {image.size}-d image against saved searches of {self._vectors.shape[1]}-d"
            )
        image = image / max(float(np.linalg.norm(image)), 1e-12)
        passed = self._vectors @ image >= self._min_scores
        return {int(i) for i in self._reads[passed]}

    def _by_words(self, tokens: set[str]) -> set[int]:
        """The searches whose every clause the image holds by one of its ways."""
        held: dict[Place, int] = defaultdict(int)  # tokens held of each way
        for token in tokens:
            for place in self._postings.get(token, ()):
                held[place] += 1
        clauses: dict[int, set[int]] = defaultdict(set)  # search -> clauses held
        for (search, c, w), count in held.items():
            if count == len(set(self._searches[search].clauses[c][w])):
                clauses[search].add(c)
        return {s for s, done in clauses.items() if len(done) == len(self._searches[s].clauses)}


def _tokens(row: Mapping[str, object]) -> set[str]:
    """The image's keyword tokens, as the index holds them ("caption:red")."""
    return set(document(row).split())
