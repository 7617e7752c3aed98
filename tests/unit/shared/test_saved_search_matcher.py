"""A new image against every saved search at once: by meaning (its score against the query's
vector), by words (every term held, whatever the score), never with an excluded word, always
within the search's filter."""

import pytest

from shared.saved_searches import MatchCriteria
from shared.saved_searches.matcher import SavedSearchMatcher
from shared.vectors import ImageFilter

EAST, NORTH = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)
FIELDS = ("file", "caption", "tag", "autotag", "text", "place")


def term(*words: str, fields: tuple[str, ...] = FIELDS) -> tuple[tuple[str, ...], ...]:
    """A term's ways: all its words in one of the fields."""
    return tuple(tuple(f"{field}:{w}" for w in words) for field in fields)


RED, CAR = term("red"), term("car")  # clauses of one term


def criteria(
    search_id: str, vector: tuple[float, ...] | None = None, **given: object
) -> MatchCriteria:
    fields: dict[str, object] = {"min_score": 0.5, "clauses": (), **given}
    return MatchCriteria(search_id, vectors=(vector,) if vector else (), **fields)  # type: ignore[arg-type]


def row(**fields: object) -> dict[str, object]:
    return {"filename": "IMG_1.jpg", "tags": [], "created_at": 1_700_000_000, **fields}


def test_an_image_belongs_by_meaning_when_it_scores_the_searchs_minimum() -> None:
    matcher = SavedSearchMatcher([criteria("east", vector=EAST), criteria("north", vector=NORTH)])
    assert matcher.match("a", [0.9, 0.1, 0.0], row()) == ["east"]
    assert matcher.match("a", [0.6, 0.6, 0.5], row()) == ["east", "north"]  # 0.6 each, unit
    assert matcher.match("a", [0.0, 0.0, 1.0], row()) == []


def test_an_image_belongs_by_words_when_it_holds_every_term_whatever_its_score() -> None:
    red_car = criteria("red car", vector=NORTH, min_score=0.99, clauses=(RED, CAR))
    matcher = SavedSearchMatcher([red_car, criteria("red", clauses=(RED,))])
    assert matcher.match("a", EAST, row(caption="A red car")) == ["red car", "red"]
    assert matcher.match("a", EAST, row(caption="a red bus")) == ["red"]
    assert matcher.match("a", EAST, row(tags=["red"], text="CAR PARK")) == ["red car", "red"]
    assert matcher.match("a", EAST, row(tags=["red", "car"])) == ["red car", "red"]
    assert matcher.match("a", NORTH, row(caption="blue")) == ["red car"]  # by meaning


def test_a_clause_of_ors_is_held_by_one_term_and_a_term_by_all_its_words() -> None:
    cat_or_red_car = term("cat") + term("red", "car")  # cat OR "red car"
    tagged_dog = (term("dog", fields=("tag",)),)  # tag:dog
    matcher = SavedSearchMatcher(
        [
            criteria("cat or red car", clauses=(cat_or_red_car,)),
            criteria("tag:dog", clauses=tagged_dog),
        ]
    )
    assert matcher.match("a", EAST, row(caption="a cat")) == ["cat or red car"]
    assert matcher.match("a", EAST, row(caption="car, red")) == ["cat or red car"]
    assert matcher.match("a", EAST, row(caption="a red bus")) == []
    assert matcher.match("a", EAST, row(caption="red", tags=["car"])) == []  # one field
    assert matcher.match("a", EAST, row(tags=["dog"])) == ["tag:dog"]
    assert matcher.match("a", EAST, row(caption="my dog")) == []  # not in the field asked


def test_an_or_read_two_ways_matches_by_either_reading() -> None:
    both = MatchCriteria("cat OR dog", vectors=(EAST, NORTH), min_score=0.9, clauses=())
    matcher = SavedSearchMatcher([both])
    assert matcher.match("a", NORTH, row()) == matcher.match("a", EAST, row()) == ["cat OR dog"]


def test_an_excluded_word_or_the_filter_keeps_an_image_out() -> None:
    night = ("caption:night", "tag:night", "file:night")
    cars = criteria("cars", vector=EAST, excluded=night, where=ImageFilter(tags=("trip",)))
    matcher = SavedSearchMatcher([cars])
    assert matcher.match("a", EAST, row(tags=["trip"])) == ["cars"]
    assert matcher.match("a", EAST, row(tags=["trip"], caption="at night")) == []
    assert matcher.match("a", EAST, row(tags=["home"])) == []
    excluded_id = criteria("not a", vector=EAST, where=ImageFilter(exclude_ids=("a",)))
    assert SavedSearchMatcher([excluded_id]).match("a", EAST, row()) == []


def test_no_saved_search_matches_nothing_and_a_vector_of_another_size_is_refused() -> None:
    assert SavedSearchMatcher([]).match("a", EAST, row()) == []
    assert SavedSearchMatcher([criteria("words", clauses=(RED,))]).match("a", [1.0], row()) == []
    with pytest.raises(ValueError, match="a 2-d image"):
        SavedSearchMatcher([criteria("east", vector=EAST)]).match("a", [1.0, 0.0], row())
