"""What a saved search matches a new image by, compiled once from its query (the query
language, like/unlike, filters, min_score) when it is saved, so the worker needs no parser and
no model to match: the query's vector, the words the image must hold, and the filter.

An image belongs as the search box would keep it: the filter keeps it, it holds none of the
excluded words, and it holds the whole query literally or scores at least ``min_score`` by
meaning ("min_score bounds the meaning score: an image holding every word of the query stays
whatever its score"). Holding the query: every clause (terms joined by OR) has a term whose
every word the image holds in one field the term allows (a file name also whole). A phrase is
held by its words, in any order (the index's tokens keep no positions)."""

from dataclasses import dataclass

from shared.vectors.protocol import ImageFilter

# the row field listing the saved searches an image was matched into when it was indexed or
# enriched (the albums it joined: what "new since you last looked" counts)
ALBUMS = "albums"

# one way to hold a term: these keyword tokens, all of them ("caption:red", "caption:car");
# a clause is held by any of its ways (a term in each field it allows, each term of an OR)
Way = tuple[str, ...]
Clause = tuple[Way, ...]


@dataclass(frozen=True)
class MatchCriteria:
    search_id: str
    # the query's meaning, one vector per reading of its ORs (an image scores its best);
    # empty for a query of field terms only
    vectors: tuple[tuple[float, ...], ...]
    min_score: float
    # what holding the query literally means; empty: the query has no words to hold
    clauses: tuple[Clause, ...]
    # tokens an image must not hold (an excluded term's words in its fields)
    excluded: tuple[str, ...] = ()
    where: ImageFilter | None = None
