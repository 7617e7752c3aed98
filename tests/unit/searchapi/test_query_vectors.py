"""The meaning side's arithmetic: readings, weights, exclusions and Rocchio feedback."""

import numpy as np
import pytest

from searchapi.matching import coverage, matches
from searchapi.query_language import parse_query
from searchapi.query_plan import plan_query
from searchapi.query_vectors import mean_of, meaning_vectors
from shared.keywords import document

AXES = {"red": [1.0, 0.0, 0.0], "green": [0.0, 1.0, 0.0], "blue": [0.0, 0.0, 1.0]}


def text_vector(text: str) -> np.ndarray:
    total = np.sum([AXES.get(w, [0.1, 0.1, 0.1]) for w in text.split()], axis=0)
    vector: np.ndarray = (total / np.linalg.norm(total)).astype(np.float32)
    return vector


def vectors(query: str, **feedback: np.ndarray | None) -> tuple[np.ndarray, ...]:
    return meaning_vectors(plan_query(parse_query(query)), text_vector, 3, **feedback)


def test_each_reading_is_one_unit_vector() -> None:
    [one] = vectors("red")
    assert one == pytest.approx(AXES["red"])
    either = vectors("red OR blue")
    assert [v.argmax() for v in either] == [0, 2]
    assert all(np.linalg.norm(v) == pytest.approx(1.0) for v in either)


def test_a_weight_adds_and_an_exclusion_subtracts() -> None:
    [weighted] = vectors("red green:3")
    assert weighted[1] > weighted[0] > 0  # green three times over
    [plain] = vectors("red green")
    [away] = vectors("red green -green")
    assert away[1] < 0 < plain[1]  # the green vector taken off the reading's
    assert away[0] > plain[0]


def test_literal_only_queries_have_no_meaning_unless_images_are_liked() -> None:
    assert vectors("tag:dog") == ()
    liked = mean_of({"a": [0.0, 2.0, 0.0]}, ["a"])
    [towards] = vectors("tag:dog", like=liked)
    assert towards == pytest.approx(AXES["green"])


def test_rocchio_moves_the_query_towards_liked_and_away_from_unliked() -> None:
    stored = {"g": [0.0, 1.0, 0.0], "b": [0.0, 0.0, 3.0]}
    [moved] = vectors("red", like=mean_of(stored, ["g"]), unlike=mean_of(stored, ["b"]))
    expected = np.array([1.0, 0.75, -0.25])
    assert moved == pytest.approx(expected / np.linalg.norm(expected))
    assert mean_of(stored, []) is None


def test_a_hit_explains_itself_the_same_from_its_fields_or_the_index_words() -> None:
    fields = {"filename": "IMG_2041.jpg", "caption": "a red car", "tags": ["New York"]}
    indexed = {**fields, "keywords": document(fields)}
    clauses = plan_query(parse_query('IMG_2041 red "new york" bus')).clauses
    assert coverage(clauses, fields) == coverage(clauses, indexed) == pytest.approx(0.75)
    terms = [t for clause in clauses for t in clause]
    assert matches(terms, fields) == matches(terms, indexed)
