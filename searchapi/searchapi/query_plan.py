"""What a parsed query asks of each side of search.

The meaning side embeds descriptions: the unrestricted terms read together, in order, as one
sentence (``red car at night``), one sentence per way of reading its ``OR``s (``cat OR dog on
a sofa``: "cat on a sofa", "dog on a sofa"; an image scores its best). A weighted term adds
its own vector that many times over, and an excluded unrestricted term subtracts its vector
(rclip's query arithmetic). Terms restricted to a field (``tag:dog``) are literal: keyword
side only.

The keyword side looks up the words of every term in the fields it names (all of them when
unrestricted), as the index spells them (``caption:red``); a weight repeats its words.
"""

import itertools
from dataclasses import dataclass

from searchapi.query_language import Query, QuerySyntaxError, Term
from shared.keywords import KEYWORD_FIELDS, filename_words, words

# readings of a query's ORs embedded and searched, at most
MAX_READINGS = 8
# terms the keyword side looks up, at most: a pasted paragraph is cut there, never refused
# (the meaning side reads it whole, up to the model's own context)
MAX_KEYWORD_TERMS = 32
# a weight w repeats a term's words round(w * REPEATS_PER_WEIGHT) times (at least once), so
# that a weight of 0.5 still weighs half of 1
REPEATS_PER_WEIGHT = 2
# the query language's field names for the keyword fields they restrict to
FIELD_OF_TERM = {
    "tag": "tag",
    "autotag": "autotag",
    "file": "file",
    "text": "text",
    "place": "place",
}
# words too common to say anything on the keyword side ("a dog on the beach" looks up dog and
# beach); the meaning side reads them all. A query of nothing else looks them up anyway
STOPWORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it"}
    | {"its", "of", "on", "onto", "or", "over", "that", "the", "this", "to", "under", "with"}
)


@dataclass(frozen=True)
class WeightedText:
    text: str
    weight: float


@dataclass(frozen=True)
class QueryPlan:
    # the meaning side: each reading's sentence (empty when only literal terms were given)
    readings: tuple[str, ...]
    boosts: tuple[WeightedText, ...]  # added to every reading's vector
    pushed_away: tuple[WeightedText, ...]  # subtracted from every reading's vector
    # the keyword side: index words to look up (repeats weigh more)
    keyword_tokens: tuple[str, ...]
    # what the keyword side looks for, as the user wrote it (no stopwords), each clause one
    # term or terms joined by OR: explains a hit and measures how much of the query it holds
    clauses: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...]

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(term for clause in self.clauses for term in clause)

    @property
    def has_meaning(self) -> bool:
        return bool(self.readings) or bool(self.boosts)


def plan_query(query: Query) -> QueryPlan:
    readings = _readings(query)
    boosts = tuple(
        WeightedText(term.text, term.weight)
        for term in query.terms
        if term.field is None and term.weight != 1.0 and _alone(query, term)
    )
    pushed_away = tuple(
        WeightedText(term.text, term.weight) for term in query.excluded if term.field is None
    )
    literal = tuple(
        kept for clause in query.clauses if (kept := tuple(t for t in clause if not _stopword(t)))
    )
    literal = _first_terms(literal or query.clauses, MAX_KEYWORD_TERMS)
    tokens = tuple(
        token
        for clause in literal
        for term in clause
        for token in term_tokens(term)
        for _ in range(max(1, round(term.weight * REPEATS_PER_WEIGHT)))
    )
    return QueryPlan(readings, boosts, pushed_away, tokens, literal, query.excluded)


def _first_terms(clauses: tuple[tuple[Term, ...], ...], limit: int) -> tuple[tuple[Term, ...], ...]:
    kept: list[tuple[Term, ...]] = []
    left = limit
    for clause in clauses:
        if left <= 0:
            break
        kept.append(clause[:left])
        left -= len(kept[-1])
    return tuple(kept)


def _stopword(term: Term) -> bool:
    return term.field is None and not term.phrase and term.text.lower() in STOPWORDS


def term_tokens(term: Term) -> list[str]:
    """The index words a term looks for: each of its words in each field it may match."""
    fields = (FIELD_OF_TERM[term.field],) if term.field else KEYWORD_FIELDS
    found: list[str] = []
    for field in fields:
        spelled = filename_words(term.text) if field == "file" else words(term.text)
        found.extend(f"{field}:{word}" for word in spelled)
    return list(dict.fromkeys(found))


def _alone(query: Query, term: Term) -> bool:
    return any(clause == (term,) for clause in query.clauses)


def _readings(query: Query) -> tuple[str, ...]:
    """One sentence per way of choosing one term of each OR; weighted single terms are
    boosts, not part of the sentence."""
    choices = [
        [t.text for t in clause if t.field is None]
        for clause in query.clauses
        if not (len(clause) == 1 and (clause[0].field is not None or clause[0].weight != 1.0))
    ]
    choices = [c for c in choices if c]
    count = 1
    for options in choices:
        count *= len(options)
    if count > MAX_READINGS:
        raise QuerySyntaxError(
            _first_or(query), f"more than {MAX_READINGS} ways to read the ORs together"
        )
    if not choices:
        return ()
    return tuple(" ".join(parts) for parts in itertools.product(*choices))


def _first_or(query: Query) -> int:
    return next((clause[0].position for clause in query.clauses if len(clause) > 1), 0)
