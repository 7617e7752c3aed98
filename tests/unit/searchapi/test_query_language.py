import pytest

from searchapi.query_language import QuerySyntaxError, Term, parse_query
from searchapi.query_plan import MAX_KEYWORD_TERMS, plan_query


def test_words_phrases_fields_weights_and_exclusions() -> None:
    query = parse_query('"red car":2 at night tag:dog -blurry file:IMG_2041.jpg -"night sky"')
    assert query.terms == (
        Term("red car", 0, phrase=True, weight=2.0),
        Term("at", 12),
        Term("night", 15),
        Term("dog", 21, field="tag"),
        Term("IMG_2041.jpg", 37, field="file"),
    )
    assert query.excluded == (Term("blurry", 30), Term("night sky", 56, phrase=True))


def test_or_joins_the_terms_on_either_side_into_one_clause() -> None:
    query = parse_query("cat OR dog OR place:lisbon beach")
    assert [[t.text for t in clause] for clause in query.clauses] == [
        ["cat", "dog", "lisbon"],
        ["beach"],
    ]
    # lower-case "or" is a word
    assert len(parse_query("black or white").clauses) == 3


@pytest.mark.parametrize(
    ("query", "text", "weight"),
    [
        ("10:30", "10:30", 1.0),  # a time: no letter before the colon
        ("sunset:0.5", "sunset", 0.5),
        ("TEXT:open", "open", 1.0),
        ("http://example.org", "http://example.org", 1.0),  # not a field of ours
        ("IMG_2041:3", "IMG_2041", 3.0),
    ],
)
def test_a_colon_is_a_field_or_a_weight_only_where_it_reads_as_one(
    query: str, text: str, weight: float
) -> None:
    (term,) = parse_query(query).terms
    assert (term.text, term.weight) == (text, weight)


@pytest.mark.parametrize(
    ("query", "position", "problem"),
    [
        ('a "red car', 2, "never closed"),
        ("-dog -cat", 0, "only exclusions"),
        ("   ", 0, "no terms"),
        ("OR cat", 0, "before it"),
        ("cat OR", 4, "after it"),
        ("cat OR OR dog", 7, "twice"),
        ("cat OR -dog", 7, "not an exclusion"),
        ("-dog OR cat", 5, "not an exclusion"),
        ("tag: dog", 0, "needs a term"),
        ('a ""', 2, "empty phrase"),
        ("cat:0", 3, "more than 0"),
        ("cat:11", 3, "at most 10"),
        ('"red":x', 5, "a number"),
        ('"red"car', 0, "after a closing quote"),
        ("cat -", 4, "no term after it"),
    ],
)
def test_a_malformed_query_names_the_position(query: str, position: int, problem: str) -> None:
    with pytest.raises(QuerySyntaxError) as refused:
        parse_query(query)
    assert refused.value.position == position
    assert problem in refused.value.problem
    assert f"position {position}" in str(refused.value)


def test_a_long_text_is_read_whole_and_looked_up_in_part() -> None:
    words = [f"w{n}" for n in range(500)]
    query = parse_query(" ".join(words))
    assert [t.text for t in query.terms] == words  # never refused
    plan = plan_query(query)
    assert plan.readings == (" ".join(words),)  # the meaning side reads it all
    assert [t.text for t in plan.terms] == words[:MAX_KEYWORD_TERMS]
