"""The search box's small query language, read into terms (what each term means to the keyword
and the meaning side is the search's business, not the parser's):

- ``word`` and ``"exact phrase"``: terms;
- ``-word``, ``-"a phrase"``: excluded;
- ``word:2``, ``"a phrase":0.5``: weighted (0 < weight <= 10; a word with no letter keeps its
  colon, so ``10:30`` is a time, not a weight);
- ``tag:dog``, ``file:IMG_2041``, ``text:"open 24h"``, ``place:lisbon``: restricted to a field;
- ``a OR b``: either (between two terms that are not exclusions).

A malformed query raises QuerySyntaxError naming the (0-based) position in the query.
"""

import re
from dataclasses import dataclass
from typing import Literal

FieldName = Literal["tag", "autotag", "file", "text", "place"]
FIELDS: tuple[FieldName, ...] = ("tag", "autotag", "file", "text", "place")
MAX_WEIGHT = 10.0
_WEIGHT = re.compile(r"(?P<word>.*[^\W\d_].*):(?P<weight>\d+(?:\.\d+)?)")
_FIELD = re.compile(r"(?P<field>[A-Za-z]+):(?P<rest>.*)", re.DOTALL)


class QuerySyntaxError(ValueError):
    def __init__(self, position: int, problem: str) -> None:
        super().__init__(f"query, at position {position}: {problem}")
        self.position = position
        self.problem = problem


@dataclass(frozen=True)
class Term:
    text: str  # the word, or the phrase's words as typed (without the quotes)
    position: int  # where the term starts in the query
    phrase: bool = False
    field: FieldName | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class Query:
    clauses: tuple[tuple[Term, ...], ...]  # each clause: one term, or terms joined by OR
    excluded: tuple[Term, ...]

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(term for clause in self.clauses for term in clause)


def parse_query(query: str) -> Query:
    clauses: list[list[Term]] = []
    excluded: list[Term] = []
    previous: Literal["term", "excluded", "or", None] = None
    or_at = 0  # where the last OR stands
    for start, raw in _tokens(query):
        if raw == "OR":
            if previous == "or":
                raise QuerySyntaxError(start, "OR twice in a row")
            if previous is None:
                raise QuerySyntaxError(start, "OR needs a term before it")
            if previous == "excluded":
                raise QuerySyntaxError(start, "OR joins two terms, not an exclusion")
            previous, or_at = "or", start
            continue
        negated = raw.startswith("-") and len(raw) > 1
        term = _term(raw[1:] if negated else raw, start + 1 if negated else start)
        if negated:
            if previous == "or":
                raise QuerySyntaxError(start, "OR joins two terms, not an exclusion")
            excluded.append(term)
            previous = "excluded"
        elif previous == "or":
            clauses[-1].append(term)
            previous = "term"
        else:
            clauses.append([term])
            previous = "term"
    if previous == "or":
        raise QuerySyntaxError(or_at, "OR needs a term after it")
    if not clauses:
        where = excluded[0].position - 1 if excluded else 0
        problem = "only exclusions: add a term to search for" if excluded else "no terms"
        raise QuerySyntaxError(where, problem)
    return Query(tuple(tuple(c) for c in clauses), tuple(excluded))


def _tokens(query: str) -> list[tuple[int, str]]:
    """(position, text) of each whitespace-separated token; a quoted phrase is one token with
    whatever precedes it (``-``, ``tag:``) and follows it (``:2``), spaces inside included."""
    tokens: list[tuple[int, str]] = []
    at, end = 0, len(query)
    while at < end:
        if query[at].isspace():
            at += 1
            continue
        start = at
        while at < end and not query[at].isspace():
            if query[at] == '"':
                closing = query.find('"', at + 1)
                if closing < 0:
                    raise QuerySyntaxError(at, "a quote that is never closed")
                at = closing
            at += 1
        tokens.append((start, query[start:at]))
    return tokens


def _term(raw: str, position: int) -> Term:
    field: FieldName | None = None
    offset = 0
    matched = _FIELD.fullmatch(raw)
    if matched and matched.group("field").lower() in FIELDS:
        field = matched.group("field").lower()  # type: ignore[assignment]
        offset = len(matched.group("field")) + 1
        raw = matched.group("rest")
        if not raw:
            raise QuerySyntaxError(position, f"{field}: needs a term after it")
    text, weight = _weighted(raw, position + offset)
    if text.startswith('"'):
        if len(text) < 2 or not text.endswith('"'):
            raise QuerySyntaxError(position + offset, "text after a closing quote")
        words = text[1:-1].strip()
        if not words:
            raise QuerySyntaxError(position + offset, "an empty phrase")
        return Term(words, position, phrase=True, field=field, weight=weight)
    if '"' in text:
        raise QuerySyntaxError(position + offset + text.index('"'), "a quote inside a word")
    if text == "-":
        raise QuerySyntaxError(position + offset, "a '-' with no term after it")
    return Term(text, position, field=field, weight=weight)


def _weighted(raw: str, position: int) -> tuple[str, float]:
    """``word:2`` -> ("word", 2.0); a colon that is not a weight stays part of the word."""
    quoted = raw.startswith('"') and '":' in raw and not raw.endswith('"')
    matched = _WEIGHT.fullmatch(raw) if not raw.startswith('"') or quoted else None
    if quoted:
        phrase, _, number = raw.rpartition(":")
        if not re.fullmatch(r"\d+(?:\.\d+)?", number):
            raise QuerySyntaxError(position + len(phrase), "a weight is a number, as in :2")
        matched_text, weight = phrase, float(number)
    elif matched:
        matched_text, weight = matched.group("word"), float(matched.group("weight"))
    else:
        return raw, 1.0
    if not 0 < weight <= MAX_WEIGHT:
        raise QuerySyntaxError(
            position + len(matched_text), f"a weight is more than 0 and at most {MAX_WEIGHT:g}"
        )
    return matched_text, weight
