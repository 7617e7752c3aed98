"""Why a hit matched on the keyword side: which of its fields hold which of the query's words,
read from the hit's stored fields with the same words the index was given
(shared.keywords), so what the page highlights is what matched. A phrase matches only where
its words stand together in one run (a caption, a tag, a file name).

Coverage says how much of the query a hit holds literally, 0..1: each term counts whole when
found whole (a word, a phrase together, a whole file name or one of its parts as typed), in
part when only some of its words are there (IMG_2041 in IMG_2042.jpg: img, not 2041)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from searchapi.query_language import Term
from searchapi.query_plan import FIELD_OF_TERM
from shared.keywords import KEYWORD_FIELDS, field_words, filename_words, index_words, words


@dataclass(frozen=True)
class FieldMatch:
    field: str  # file, caption, tag, text, place
    words: tuple[str, ...]  # the query's words found there, lower case, in query order


class HitWords:
    """A hit's words, read once: the index's own words (``caption:red``) when the hit carries
    them (keyword hits do: the ``keywords`` field), else made from its fields; runs (for
    phrases) made only when a phrase asks."""

    def __init__(self, fields: Mapping[str, object]) -> None:
        self._fields = fields
        self._runs: dict[str, list[list[str]]] | None = None
        self._indexed: set[str] | None = None

    def runs(self, field: str) -> list[list[str]]:
        if self._runs is None:
            self._runs = field_words(self._fields)
        return self._runs.get(field, [])

    def holds(self, field: str, word: str) -> bool:
        if self._indexed is None:
            document = self._fields.get("keywords")
            if not isinstance(document, str):  # a hit found by meaning: the same words
                self._runs = self._runs or field_words(self._fields)
                document = index_words(self._runs)
            self._indexed = set(document.split())
        return f"{field}:{word}" in self._indexed


def matches(terms: Sequence[Term], fields: Mapping[str, object]) -> list[FieldMatch]:
    """The fields of a hit that hold one of these terms, in KEYWORD_FIELDS order."""
    runs = HitWords(fields)
    found: dict[str, list[str]] = {}
    for term in terms:
        for field, hit, _ in _term_hits(term, runs):
            seen = found.setdefault(field, [])
            seen.extend(w for w in hit if w not in seen)
    return [FieldMatch(f, tuple(found[f])) for f in KEYWORD_FIELDS if f in found]


def coverage(clauses: Sequence[Sequence[Term]], fields: Mapping[str, object]) -> float:
    """How much of the query the hit holds literally, 0..1: each clause counts its best held
    term (a OR b), clauses weighed by their terms' weight."""
    if not clauses:
        return 0.0
    runs = HitWords(fields)

    def held(term: Term) -> float:
        return max((whole for _, _, whole in _term_hits(term, runs)), default=0.0)

    weights = [max(term.weight for term in clause) for clause in clauses]
    found = [max(t.weight * held(t) for t in clause) for clause in clauses]
    return sum(found) / sum(weights)


def is_excluded(excluded: Sequence[Term], fields: Mapping[str, object]) -> bool:
    """Whether a hit holds any excluded term (in its field, if the term names one)."""
    runs = HitWords(fields)
    return any(_term_hits(term, runs) for term in excluded)


def _term_hits(term: Term, runs: HitWords) -> list[tuple[str, list[str], float]]:
    """Each field holding the term: the words found there, and how whole (0..1]."""
    fields = (FIELD_OF_TERM[term.field],) if term.field else KEYWORD_FIELDS
    hits = []
    for field in fields:
        spelled = _spelled(term, field)
        if not spelled:
            continue
        if term.phrase:
            if any(_contains_run(run, spelled) for run in runs.runs(field)):
                hits.append((field, spelled, 1.0))
            continue
        if field == "file" and runs.holds(field, spelled[0]):
            # a whole file name (or the one part typed) needs no other parts to explain it
            hits.append((field, spelled[:1], 1.0))
            continue
        parts = spelled[1:] if field == "file" and len(spelled) > 1 else spelled
        held = [w for w in parts if runs.holds(field, w)]
        if held:
            hits.append((field, held, len(held) / len(parts)))
    return hits


# the query's side, spelled once per term and field, not once per hit
@lru_cache(maxsize=4096)
def _spelled(term: Term, field: str) -> list[str]:
    if field == "file" and not term.phrase:
        # a file name is one word to the index (IMG_2041.jpg) and so are its parts
        return filename_words(term.text)
    return words(term.text)


def _contains_run(run: list[str], phrase: list[str]) -> bool:
    width = len(phrase)
    return any(run[i : i + width] == phrase for i in range(len(run) - width + 1))
