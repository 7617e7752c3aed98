"""A query as a saved search matches new images by (shared.saved_searches): compiled here,
where the query language lives, so the worker matches with no parser and no model.

The keyword side mirrors searchapi.matching's "holds the term whole": its words together in
one field it allows, or a file name whole (or all its parts). Phrases are held by their words
in any order (a superset of the box's answer: the index's tokens keep no positions)."""

from collections.abc import Sequence

from searchapi.query_language import Term
from searchapi.query_plan import FIELD_OF_TERM, QueryPlan, term_tokens
from shared.embedding import Vectors
from shared.keywords import KEYWORD_FIELDS, filename_words, words
from shared.saved_searches import MatchCriteria
from shared.saved_searches.criteria import Clause, Way
from shared.vectors import ImageFilter


def match_criteria(
    search_id: str,
    plan: QueryPlan | None,
    vectors: Sequence[Vectors],
    min_score: float,
    where: ImageFilter | None,
) -> MatchCriteria:
    """``vectors``: the query's meaning, one per reading (as search embeds them); no plan: a
    query of liked images only."""
    clauses: tuple[Clause, ...] = tuple(
        tuple(dict.fromkeys(way for term in clause for way in term_ways(term)))
        for clause in (plan.clauses if plan else ())
    )
    excluded = plan.excluded if plan else ()
    return MatchCriteria(
        search_id=search_id,
        vectors=tuple(tuple(float(x) for x in v) for v in vectors),
        min_score=min_score,
        clauses=tuple(clause for clause in clauses if clause),
        excluded=tuple(dict.fromkeys(t for term in excluded for t in term_tokens(term))),
        where=where,
    )


def term_ways(term: Term) -> list[Way]:
    """Each way an image holds the term whole: all its words in one of its fields."""
    fields = (FIELD_OF_TERM[term.field],) if term.field else KEYWORD_FIELDS
    ways: list[Way] = []
    for field in fields:
        if field == "file" and not term.phrase:
            spelled = filename_words(term.text)
            if not spelled:
                continue
            ways.append((f"file:{spelled[0]}",))  # the whole name (or the one part typed)
            parts = spelled[1:] if len(spelled) > 1 else spelled
            ways.append(tuple(f"file:{w}" for w in parts))
            continue
        spelled = words(term.text)
        if spelled:
            ways.append(tuple(f"{field}:{w}" for w in dict.fromkeys(spelled)))
    return list(dict.fromkeys(ways))
