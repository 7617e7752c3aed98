"""One search box over the fake index: meaning (colour vectors) and keywords fused, why each
hit matched, the query language's operators, and like/unlike."""

import dataclasses
import math
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.container import Container
from searchapi.fusion import fuse
from searchapi.main import create_app
from searchapi.matching import FieldMatch, is_excluded, matches
from searchapi.query_language import parse_query
from searchapi.query_plan import MAX_READINGS, plan_query, term_tokens
from searchapi.settings import SearchApiSettings
from shared.embedding import Vectors
from shared.vectors import ImageRecord, SearchHit
from tests.unit.fakes import ColourEmbedder, InMemoryVectorIndex

RED, GREEN, BLUE = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]
REDDISH = [0.9, 0.43, 0.0]


def image_id(n: int) -> str:
    return f"{n:064x}"


def record(n: int, vector: list[float], filename: str, **kw: object) -> ImageRecord:
    return ImageRecord(image_id(n), vector, filename, "image/jpeg", 10, 10, 1, 1000 + n, **kw)  # type: ignore[arg-type]


@pytest.fixture
def index() -> InMemoryVectorIndex:
    index = InMemoryVectorIndex()
    index.upsert(
        [
            record(1, RED, "IMG_2041.jpg", caption="a red car at night"),
            record(2, REDDISH, "IMG_2042.jpg", caption="sunset over the sea", tags=["beach"]),
            record(3, GREEN, "HolidayPark2019.png", caption="a dog on the grass", tags=["dog"]),
            record(4, BLUE, "DSC_0001.jpg", caption="blue sky", tags=["New York"]),
            record(5, GREEN, "DSC_0002.jpg", caption="green field with a red barn"),
            record(6, BLUE, "DSC_0003.jpg", caption="a cat, a dog and a bird"),
        ]
    )
    return index


def client_for(index: InMemoryVectorIndex, **search: object) -> TestClient:
    container = Container(settings=SearchApiSettings(search=search))  # type: ignore[arg-type]
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    return TestClient(create_app(container))


@pytest.fixture(params=["rrf", "weighted"])
def client(index: InMemoryVectorIndex, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    with client_for(index, fusion=request.param) as c:
        yield c


def search(client: TestClient, **params: Any) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/v1/image/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def ids(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["id"] for item in body["items"]]


def test_an_exact_file_name_puts_its_image_first(client: TestClient) -> None:
    for query in ("IMG_2042.jpg", "IMG_2042", "img_2042", "file:IMG_2042"):
        first = search(client, text=query)["items"][0]
        assert first["id"] == image_id(2), query
        assert {"field": "file", "words": [query.removeprefix("file:").lower()]} in first["matched"]


def test_the_index_words_stay_inside(client: TestClient) -> None:
    item = search(client, text="IMG_2042")["items"][0]
    assert "keywords" not in item and item["filename"] == "IMG_2042.jpg"


def test_a_file_names_number_alone_finds_it(client: TestClient) -> None:
    first = search(client, text="2019")["items"][0]
    assert first["filename"] == "HolidayPark2019.png"
    assert first["matched"] == [{"field": "file", "words": ["2019"]}]


def test_a_description_ranks_by_meaning_and_says_its_score(client: TestClient) -> None:
    body = search(client, text="red")
    # red by meaning: the red and reddish pictures; "red" in the barn's caption too
    assert set(ids(body)[:3]) == {image_id(1), image_id(2), image_id(5)}
    assert ids(body)[0] == image_id(1)  # red by meaning and by its caption
    top = body["items"][0]
    assert top["score"] == pytest.approx(1.0, abs=1e-5)
    assert top["relevance"] == pytest.approx(1.0, abs=1e-5)
    assert top["matched"] == [{"field": "caption", "words": ["red"]}]


def fading(count: int, captions: dict[int, str]) -> InMemoryVectorIndex:
    """``count`` images fading from red (1) to green, some captioned."""
    index = InMemoryVectorIndex()
    angles = [(n - 1) * math.pi / 2 / count for n in range(1, count + 1)]
    index.upsert(
        [
            record(
                n, [math.cos(a), math.sin(a), 0.0], f"IMG_{n:04d}.jpg", caption=captions.get(n, "")
            )
            for n, a in zip(range(1, count + 1), angles, strict=True)
        ]
    )
    return index


# weighted: pages agree however deep the sides read; rrf: within fusion_candidates
@pytest.mark.parametrize(("fusion", "candidates"), [("rrf", 50), ("weighted", 5)])
def test_a_word_hit_far_down_by_meaning_has_its_own_cosine_on_every_page(
    fusion: str, candidates: int
) -> None:
    index = fading(40, {30: "a barn", 35: "a red barn"})
    with client_for(index, fusion=fusion, fusion_candidates=candidates) as client:
        short = search(client, text="red barn", limit=3)
        deep = search(client, text="red barn", limit=40)
    assert ids(short)[0] == image_id(35)  # holds both words, though 34 images look redder
    query = np.asarray([1.1, 0.1, 0.1]) / np.linalg.norm([1.1, 0.1, 0.1])
    stored = index.records[image_id(35)].vector
    assert short["items"][0]["score"] == pytest.approx(float(np.dot(query, stored)), abs=1e-5)
    assert ids(deep)[:3] == ids(short)
    relevance = {item["id"]: item["relevance"] for item in deep["items"]}
    assert all(item["relevance"] == relevance[item["id"]] for item in short["items"])


class WordsFirstIndex(InMemoryVectorIndex):
    def __init__(self) -> None:
        super().__init__()
        self.words_asked = threading.Event()
        self.keyword_searches = 0

    def keyword_search(self, *args: Any, **kwargs: Any) -> list[SearchHit]:
        self.keyword_searches += 1
        self.words_asked.set()
        return super().keyword_search(*args, **kwargs)


class WaitingEmbedder(ColourEmbedder):
    """Embeds a text only once the keyword side has been asked (or says it never was)."""

    def __init__(self, index: WordsFirstIndex) -> None:
        super().__init__()
        self._index = index
        self.words_were_asked: list[bool] = []

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        if texts != ["warm up"]:  # a query, not the start-up run
            self.words_were_asked.append(self._index.words_asked.wait(timeout=5))
        return super().embed_texts(texts)


def test_the_keyword_side_runs_while_the_text_is_embedded() -> None:
    index = WordsFirstIndex()
    index.upsert([record(1, RED, "IMG_2041.jpg", caption="a red car")])
    embedder = WaitingEmbedder(index)
    container = Container(settings=SearchApiSettings())
    container.embedder.override(providers.Object(embedder))
    container.vector_index.override(providers.Object(index))
    with TestClient(create_app(container)) as client:
        body = search(client, text="red car")
    assert ids(body) == [image_id(1)]
    assert embedder.words_were_asked == [True]
    assert index.keyword_searches == 1  # the early search is the one ranked


def test_min_score_judges_a_word_hit_far_down_by_its_own_cosine() -> None:
    # 2 looks red (cosine ~0.99) and holds one word; 30 and 35 look green (~0.5)
    index = fading(40, {2: "a barn", 30: "a barn", 35: "a red barn"})
    with client_for(index, fusion_candidates=40) as client:
        body = search(client, text="red barn", limit=40, min_score=0.7)
    found = ids(body)
    assert found[0] == image_id(35) and body["items"][0]["score"] < 0.7  # every word: kept
    assert image_id(2) in found and image_id(30) not in found  # some words: by cosine
    assert all(item["score"] >= 0.7 for item in body["items"][1:])


def test_an_image_that_looks_like_the_words_and_holds_them_beats_one_that_only_holds_them() -> None:
    # ten images hold "red"; the keyword side, read 3 deep, finds the first three by id,
    # the greenest; the meaning side finds the reddest, which hold the word too
    index = fading(10, {n: "red" for n in range(1, 11)})
    reversed_ids = {image_id(n): image_id(11 - n) for n in range(1, 11)}
    index.records = {
        reversed_ids[k]: dataclasses.replace(r, id=reversed_ids[k])
        for k, r in index.records.items()
    }
    with client_for(index, fusion_candidates=1) as client:
        body = search(client, text="red", limit=2)
    assert ids(body) == [image_id(10), image_id(9)]
    assert all(item["relevance"] > 0.5 for item in body["items"])  # they hold every word


def test_a_tag_restricted_term_is_literal_only(client: TestClient) -> None:
    body = search(client, text="tag:dog")
    assert ids(body) == [image_id(3)]  # the caption "a cat, a dog" is not a tag
    assert body["items"][0]["score"] is None  # no meaning side
    assert body["items"][0]["matched"] == [{"field": "tag", "words": ["dog"]}]


def test_a_phrase_matches_words_that_stand_together(client: TestClient) -> None:
    assert ids(search(client, text='tag:"new york"')) == [image_id(4)]
    assert search(client, text='tag:"york new"')["items"] == []


def test_an_excluded_word_leaves_out_every_image_that_holds_it(client: TestClient) -> None:
    kept = ids(search(client, text="red -barn", limit=10))
    assert image_id(5) not in kept and image_id(1) in kept
    kept = ids(search(client, text="dog -tag:dog", limit=10))
    assert image_id(3) not in kept and image_id(6) in kept


def test_an_excluded_concept_pushes_the_meaning_away(client: TestClient) -> None:
    plain = search(client, text="red green", limit=10)["items"]
    away = search(client, text="red green -green", limit=10)["items"]
    score = {i["id"]: i["score"] for i in away}
    before = {i["id"]: i["score"] for i in plain}
    assert score[image_id(1)] > before[image_id(1)]  # the red one comes closer
    assert score[image_id(3)] < before[image_id(3)]  # the green ones go away


def test_or_finds_either(client: TestClient) -> None:
    found = ids(search(client, text="tag:dog OR tag:beach"))
    assert set(found) == {image_id(2), image_id(3)}


def test_a_weight_moves_a_term_up(client: TestClient) -> None:
    plain = ids(search(client, text="tag:beach tag:dog"))
    assert ids(search(client, text="tag:beach tag:dog:3"))[0] == image_id(3)
    assert ids(search(client, text="tag:beach:3 tag:dog"))[0] == image_id(2)
    assert set(plain) == {image_id(2), image_id(3)}


@pytest.mark.parametrize(
    ("query", "position", "problem"),
    [
        ("red OR", 4, "OR needs a term after it"),
        ('a "red car', 2, "never closed"),
        ("-red -car", 0, "only exclusions"),
        ("red:11", 3, "at most 10"),
        (" ".join(f"a OR b{i}" for i in range(4)), 0, f"more than {MAX_READINGS} ways"),
    ],
)
def test_a_query_that_does_not_read_is_a_422_naming_the_position(
    client: TestClient, query: str, position: int, problem: str
) -> None:
    response = client.get("/api/v1/image/search", params={"text": query})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "bad_query"
    assert body["position"] == position
    assert problem in body["detail"]


def test_like_moves_towards_the_liked_images_and_leaves_them_out(client: TestClient) -> None:
    body = search(client, like=[image_id(3)], limit=3)
    assert image_id(3) not in ids(body)
    assert ids(body)[0] == image_id(5)  # the other green one
    mixed = search(client, text="blue", like=[image_id(3), image_id(5)], limit=6)
    plain = search(client, text="blue", limit=6)
    rank = ids(mixed)
    assert image_id(3) not in rank and image_id(5) not in rank
    assert {i["id"]: i["score"] for i in plain["items"]}[image_id(4)] > 0.99
    assert rank[0] in (image_id(4), image_id(6))  # still blue first


def test_unlike_pushes_away_from_an_image(client: TestClient) -> None:
    plain = search(client, text="red", limit=10)["items"]
    unliked = search(client, text="red", unlike=[image_id(5)], limit=10)["items"]
    before = {i["id"]: i["score"] for i in plain}
    after = {i["id"]: i["score"] for i in unliked}
    assert image_id(5) not in after
    assert after[image_id(3)] < before[image_id(3)]  # green, like the unliked barn


def test_feedback_asks_for_known_images_and_at_most_fifty(client: TestClient) -> None:
    unknown = client.get("/api/v1/image/search", params={"like": ["f" * 64]})
    assert unknown.status_code == 404
    assert "f" * 64 in unknown.json()["detail"]
    too_many = client.get("/api/v1/image/search", params={"like": [image_id(1)] * 51})
    assert too_many.status_code == 422
    nothing = client.get("/api/v1/image/search", params={"unlike": [image_id(1)]})
    assert nothing.status_code == 422  # unlike alone gives nothing to search for


def test_without_a_keyword_side_search_is_by_meaning_and_field_terms_are_refused(
    index: InMemoryVectorIndex,
) -> None:
    index.has_keywords = False
    with client_for(index) as client:
        body = search(client, text="IMG_2042")
        assert all(item["relevance"] is None for item in body["items"])
        refused = client.get("/api/v1/image/search", params={"text": "tag:dog"})
        assert refused.status_code == 422
        assert "keyword search" in refused.json()["detail"]
        ready = client.get("/readyz").json()
        assert ready["keyword_search"] is False


def test_readiness_says_the_keyword_side_is_there(client: TestClient) -> None:
    assert client.get("/readyz").json()["keyword_search"] is True


def test_an_index_word_is_the_field_and_the_word() -> None:
    [term] = parse_query("IMG_2041.jpg").terms
    tokens = term_tokens(term)
    assert "file:img_2041.jpg" in tokens and "file:2041" in tokens
    assert "caption:img" in tokens and "tag:2041" in tokens
    [tag] = parse_query("tag:Dog").terms
    assert term_tokens(tag) == ["tag:dog"]


def test_a_plan_reads_each_or_into_one_sentence() -> None:
    plan = plan_query(parse_query("cat OR dog on sofa:2 tag:home -bird"))
    assert plan.readings == ("cat on", "dog on")
    assert [(b.text, b.weight) for b in plan.boosts] == [("sofa", 2.0)]
    assert [p.text for p in plan.pushed_away] == ["bird"]
    assert plan.keyword_tokens.count("caption:sofa") == 4  # weight 2: repeated 2 x 2
    assert "tag:home" in plan.keyword_tokens and "caption:home" not in plan.keyword_tokens


def test_matches_name_each_field_and_its_words() -> None:
    fields = {"filename": "IMG_2041.jpg", "caption": "A Red car", "tags": ["red", "New York"]}
    terms = parse_query('red img "new york" nothing').terms
    assert matches(terms, fields) == [
        FieldMatch("file", ("img",)),
        FieldMatch("caption", ("red",)),
        FieldMatch("tag", ("red", "new", "york")),
    ]
    assert is_excluded(parse_query("x -york").excluded, fields)
    assert not is_excluded(parse_query('x -"york new"').excluded, fields)


def test_fusion_ranks_what_both_sides_found_first() -> None:
    meaning = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    keywords = [("c", 5.0), ("d", 1.0)]
    for method in ("rrf", "weighted"):
        fused = fuse(meaning, keywords, method)  # type: ignore[arg-type]
        assert max(fused, key=fused.__getitem__) in ("a", "c")
        assert all(0 < v <= 1 for v in fused.values())
    rrf = fuse(meaning, keywords, "rrf")
    assert rrf["c"] > rrf["a"]  # third and first beats first alone
    # equal scores share a rank: the order never depends on which one a server put first
    assert fuse([("x", 0.5), ("y", 0.5)], [], "rrf") == fuse([("y", 0.5), ("x", 0.5)], [], "rrf")
