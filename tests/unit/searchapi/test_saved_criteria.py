"""A saved search's criteria hold a new image exactly when search would say the image holds
the query whole (searchapi.matching.coverage) and excludes it when search would: checked on
many generated queries and images, so albums and the box agree."""

import random

import pytest

from searchapi.matching import coverage, is_excluded
from searchapi.query_language import parse_query
from searchapi.query_plan import plan_query
from searchapi.ranking import WHOLE
from searchapi.saved_criteria import match_criteria
from shared.saved_searches.matcher import SavedSearchMatcher

WORDS = ["red", "car", "dog", "beach", "night", "lisbon", "img", "2041", "cafe", "roma"]
NAMES = ["IMG_2041.jpg", "beach-dog.png", "RedCar.jpg", "cafe_roma_01.jpg", "x.jpg"]
FIELDS = ["", "", "", "tag:", "file:", "text:", "place:", "autotag:"]


def random_query(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 3)):
        term = rng.choice(FIELDS) + rng.choice([*WORDS, "IMG_2041", "RedCar"])
        if rng.random() < 0.2:
            term += " OR " + rng.choice(WORDS)
        parts.append(term)
    if rng.random() < 0.3:
        parts.append("-" + rng.choice(WORDS))
    return " ".join(parts)


def random_row(rng: random.Random) -> dict[str, object]:
    def some(k: int) -> str:
        return " ".join(rng.sample(WORDS, rng.randint(0, k)))

    return {
        "filename": rng.choice(NAMES),
        "caption": some(4),
        "tags": [rng.choice(WORDS) for _ in range(rng.randint(0, 2))],
        "auto_tags": [rng.choice(WORDS) for _ in range(rng.randint(0, 2))],
        "text": some(2).upper(),
        "place": rng.choice(["", "Lisbon, Portugal", "Roma, Italy"]),
    }


@pytest.mark.parametrize("seed", range(5))
def test_criteria_hold_an_image_exactly_when_search_says_it_holds_the_query(seed: int) -> None:
    rng = random.Random(seed)
    for _query in range(300):
        text = random_query(rng)
        plan = plan_query(parse_query(text))
        # no meaning side here: membership is the words alone
        matcher = SavedSearchMatcher([match_criteria("s", plan, [], 1.0, None)])
        for _ in range(20):
            row = random_row(rng)
            whole = coverage(plan.clauses, row) >= WHOLE
            out = bool(plan.excluded) and is_excluded(plan.excluded, row)
            expected = ["s"] if whole and not out and plan.clauses else []
            assert matcher.match("a" * 64, [], row) == expected, (text, row)
