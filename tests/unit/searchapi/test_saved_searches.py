"""Saved searches through searchapi's routes, with fakes behind them: saved (durably, in object
storage) only when the query reads, compiled for the live model, paged as a search with the
saved threshold, compiled again after a model switch; bad input refused with a reason."""

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.container import Container
from searchapi.main import create_app
from searchapi.settings import SearchApiSettings
from shared.saved_searches.definition import SavedSearch
from shared.saved_searches.store import SavedSearchStore, saved_search_key
from shared.vectors import ImageRecord
from tests.support.images import image_bytes
from tests.support.polling import eventually
from tests.unit.fakes import ColourEmbedder, InMemoryObjectStore, InMemoryVectorIndex

RED, REDDISH, BLUE = [1.0, 0.0, 0.0], [0.9, 0.3, 0.0], [0.0, 0.0, 1.0]
NOW = datetime(2026, 12, 7, tzinfo=UTC)


@contextmanager
def freeze(epoch: int) -> Iterator[None]:
    """searchapi.saved_search_service's clock at this second."""
    fixed = datetime.fromtimestamp(epoch, UTC)
    with mock.patch("searchapi.saved_search_service.datetime") as clock:
        clock.now.return_value = fixed
        yield


def record(name: str, vector: list[float], tags: list[str]) -> ImageRecord:
    return ImageRecord(name * 64, vector, f"{name}.jpg", "image/jpeg", 4, 3, 10, 0, tags=tags)


@pytest.fixture
def store() -> InMemoryObjectStore:
    return InMemoryObjectStore()


@pytest.fixture
def index() -> InMemoryVectorIndex:
    return InMemoryVectorIndex()


@pytest.fixture
def client(store: InMemoryObjectStore, index: InMemoryVectorIndex) -> Iterator[TestClient]:
    index.upsert(
        [
            record("a", RED, ["trip"]),
            record("b", REDDISH, ["home"]),
            record("c", BLUE, ["trip"]),
        ]
    )
    settings = SearchApiSettings(search={"max_saved_searches": 3})  # type: ignore[arg-type]
    container = Container(settings=settings)
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    container.object_store.override(providers.Object(store))
    with TestClient(create_app(container)) as c:
        yield c


def save(client: TestClient, name: str, **query: object) -> dict[str, object]:
    response = client.post("/api/v1/saved-searches", json={"name": name, "query": query})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    assert response.headers["location"] == f"/api/v1/saved-searches/{body['id']}"
    return body


def ids(response_body: dict[str, object]) -> list[str]:
    return [str(item["id"])[0] for item in response_body["items"]]  # type: ignore[attr-defined]


def test_a_saved_search_is_kept_in_storage_and_pages_its_album_as_a_search(
    client: TestClient, store: InMemoryObjectStore
) -> None:
    saved = save(client, " Red things ", text="red", min_score=0.8)
    assert (saved["name"], saved["model"], saved["min_score_from"]) == (
        "Red things",
        "fake-colour",
        "given",
    )
    stored = json.loads(store.objects[saved_search_key(str(saved["id"]))][0])
    assert stored["criteria"]["vectors"] == [[1.0, 0.0, 0.0]]
    assert ["caption:red"] in stored["criteria"]["clauses"][0]
    album = client.get(str(saved["images"])).json()
    assert ids(album) == ["a", "b"]  # b: cosine 0.95
    assert [s["id"] for s in client.get("/api/v1/saved-searches").json()] == [saved["id"]]
    assert client.get(f"/api/v1/saved-searches/{saved['id']}").json()["name"] == "Red things"


def test_the_threshold_is_where_the_results_drop_most_and_filters_are_kept(
    client: TestClient,
) -> None:
    no_cliff = {"name": "x", "query": {"text": "red", "filters": {"tags": ["trip"]}}}
    refused = client.post("/api/v1/saved-searches", json=no_cliff)  # two results: no cliff
    assert refused.status_code == 422 and "min_score" in refused.json()["detail"]
    saved = save(client, "reds", text="red")  # 1.0, 0.9, then blue at 0.0: halfway down
    assert (saved["min_score_from"], saved["min_score"]) == ("cutoff", pytest.approx(0.45))
    assert ids(client.get(str(saved["images"])).json()) == ["a", "b"]
    trips = save(client, "red trips", text="red", min_score=0.8, filters={"tags": ["trip"]})
    assert ids(client.get(str(trips["images"])).json()) == ["a"]
    words = save(client, "tagged home", text="tag:home")
    assert (words["min_score"], words["min_score_from"]) == (None, "none")
    assert ids(client.get(str(words["images"])).json()) == ["b"]


def test_a_change_of_query_is_compiled_again_and_a_rename_is_not(
    client: TestClient, store: InMemoryObjectStore
) -> None:
    saved = save(client, "red", text="red", min_score=0.8)
    url = f"/api/v1/saved-searches/{saved['id']}"
    renamed = client.patch(url, json={"name": "rouge"}).json()
    assert (renamed["name"], renamed["query"]["text"]) == ("rouge", "red")
    blue = client.patch(url, json={"query": {"text": "blue", "min_score": 0.8}}).json()
    assert blue["name"] == "rouge" and ids(client.get(str(blue["images"])).json()) == ["c"]
    stored = json.loads(store.objects[saved_search_key(str(saved["id"]))][0])
    assert stored["criteria"]["vectors"] == [[0.0, 0.0, 1.0]]


def test_another_live_model_compiles_the_query_again(
    client: TestClient, store: InMemoryObjectStore
) -> None:
    saved = save(client, "red", text="red", min_score=0.8)
    key = saved_search_key(str(saved["id"]))
    stored = json.loads(store.objects[key][0])
    stored["model"], stored["criteria"]["vectors"] = "an-older-model", [[0.5, 0.5, 0.5]]
    store.put(key, json.dumps(stored).encode(), "application/json")
    assert ids(client.get(str(saved["images"])).json()) == ["a", "b"]
    again = json.loads(store.objects[key][0])
    assert again["model"] == "fake-colour" and again["criteria"]["vectors"] == [[1.0, 0.0, 0.0]]


def test_searchapi_starting_on_a_new_model_compiles_every_saved_search_for_it(
    store: InMemoryObjectStore, index: InMemoryVectorIndex
) -> None:
    older = SavedSearchStore(store)
    for n, query in enumerate([{"text": "red", "min_score": 0.8}, {"text": "tag:trip"}]):
        search = SavedSearch.model_validate(
            {"id": f"{n}" * 32, "name": f"s{n}", "query": query, "model": "an-older-model",
             "min_score": 0.8, "min_score_from": "given", "created_at": NOW,
             "updated_at": NOW, "seen_at": NOW,
             "criteria": {"search_id": f"{n}" * 32, "vectors": [[0.5, 0.5, 0.5]],
                          "min_score": 0.8, "clauses": [], "excluded": [], "where": None}}
        )  # fmt: skip
        older.put(search)
    marker_before = older.version()
    container = Container(settings=SearchApiSettings())
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    container.object_store.override(providers.Object(store))
    with TestClient(create_app(container)):

        def recompiled() -> list[SavedSearch]:
            found = list(older.all())
            return found if all(s.model == "fake-colour" for s in found) else []

        compiled = eventually(recompiled, 10, "the saved searches compiled for the live model")
    red = next(s for s in compiled if s.name == "s0")
    assert red.match_criteria().vectors == ((1.0, 0.0, 0.0),)
    words = next(s for s in compiled if s.name == "s1")
    assert words.match_criteria().clauses and words.min_score_from == "none"
    assert older.version() != marker_before  # the workers read them again


def test_images_that_joined_since_the_album_was_seen_are_counted_new(
    client: TestClient, index: InMemoryVectorIndex
) -> None:
    saved = save(client, "red", text="red", min_score=0.8)
    other = save(client, "blue", text="blue", min_score=0.8)
    assert saved["new"] == 0
    later = int(time.time()) + 60  # uploaded after it was seen
    for n, albums in enumerate([[saved["id"]], [saved["id"], other["id"]], []]):
        index.upsert([ImageRecord(f"{n}" * 64, RED, f"{n}.jpg", "image/jpeg", 4, 3, 10, later,
                                  extra={"albums": albums})])  # fmt: skip
    listed = {s["name"]: s["new"] for s in client.get("/api/v1/saved-searches").json()}
    assert listed == {"red": 2, "blue": 1}
    url = f"/api/v1/saved-searches/{saved['id']}"
    assert client.get(url).json()["new"] == 2
    client.get(f"{url}/images", params={"offset": 1})  # a later page: not looked at yet
    assert client.get(url).json()["new"] == 2
    with freeze(later + 1):
        client.get(f"{url}/images")  # the first page: seen
    assert client.get(url).json()["new"] == 0


def test_a_deleted_saved_search_is_gone(client: TestClient, store: InMemoryObjectStore) -> None:
    saved = save(client, "red", text="red", min_score=0.8)
    url = f"/api/v1/saved-searches/{saved['id']}"
    assert client.delete(url).status_code == 204
    assert saved_search_key(str(saved["id"])) not in store.objects
    for response in (client.get(url), client.get(f"{url}/images"), client.delete(url)):
        assert response.status_code == 404 and response.json()["detail"]
    assert client.get("/api/v1/saved-searches/not-an-id").status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "x", "query": {"text": "red OR"}}, 422),  # does not read: refused now
        ({"name": "   ", "query": {"text": "red"}}, 422),
        ({"name": "a\x00b", "query": {"text": "red"}}, 422),
        ({"name": "x" * 201, "query": {"text": "red"}}, 422),
        ({"name": "x", "query": {}}, 422),  # neither text nor like
        ({"name": "x", "query": {"text": "   "}}, 400),
        ({"name": "x", "query": {"text": "red", "min_score": 2}}, 422),
        ({"name": "x", "query": {"text": "red", "filters": {"place": ""}}}, 422),
        ({"name": "x", "query": {"like": ["f" * 64]}}, 404),  # not in the index
        ({"name": "x", "query": {"text": "red"}, "colour": "red"}, 422),
        ({"name": "x", "query": {"text": "green", "filters": {"tags": ["none"]}}}, 422),  # none
    ],
)
def test_bad_saved_searches_are_refused_with_a_reason(
    client: TestClient, body: dict[str, object], status: int
) -> None:
    response = client.post("/api/v1/saved-searches", json=body)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert client.get("/api/v1/saved-searches").json() == []


def test_saved_searches_are_bounded(client: TestClient) -> None:
    for n in range(3):
        save(client, f"s{n}", text="red", min_score=0.5)
    refused = client.post(
        "/api/v1/saved-searches", json={"name": "one more", "query": {"text": "red"}}
    )
    assert refused.status_code == 409 and "max_saved_searches" in refused.json()["detail"]


def save_image(
    client: TestClient, data: bytes, name: str = "like this", query: str | None = None
) -> Any:  # the test client's response
    fields = {"name": name, **({"query": query} if query is not None else {})}
    return client.post(
        "/api/v1/saved-searches/image", files={"file": ("q.png", data, "image/png")}, data=fields
    )


def test_a_search_by_an_uploaded_image_is_kept_with_its_image_and_pages_like_it(
    client: TestClient, store: InMemoryObjectStore
) -> None:
    red = image_bytes((250, 0, 0))
    response = save_image(client, red, query='{"min_score": 0.8}')
    assert response.status_code == 201, response.text
    saved = response.json()
    assert saved["query"]["image"] == hashlib.sha256(red).hexdigest()
    assert store.objects[f"saved-search-images/{saved['query']['image']}"][0] == red
    assert ids(client.get(str(saved["images"])).json()) == ["a", "b"]

    # another model live: embedded again from the kept image
    key = saved_search_key(str(saved["id"]))
    stored = json.loads(store.objects[key][0])
    stored["model"], stored["criteria"]["vectors"] = "an-older-model", [[0.0, 0.0, 1.0]]
    store.put(key, json.dumps(stored).encode(), "application/json")
    assert ids(client.get(str(saved["images"])).json()) == ["a", "b"]
    assert json.loads(store.objects[key][0])["criteria"]["vectors"] == [[1.0, 0.0, 0.0]]

    # a query changed to words lets its picture go; a second search of it keeps it
    other = save_image(client, image_bytes((0, 250, 0)), "green", '{"min_score": 0.5}').json()
    green_key = f"saved-search-images/{other['query']['image']}"
    words = {"query": {"text": "green", "min_score": 0.5}}
    assert client.patch(f"/api/v1/saved-searches/{other['id']}", json=words).status_code == 200
    assert green_key not in store.objects
    again = save_image(client, red, name="again", query='{"min_score": 0.8}').json()
    assert client.delete(f"/api/v1/saved-searches/{saved['id']}").status_code == 204
    assert f"saved-search-images/{saved['query']['image']}" in store.objects
    assert client.delete(f"/api/v1/saved-searches/{again['id']}").status_code == 204
    assert f"saved-search-images/{saved['query']['image']}" not in store.objects


def test_text_blends_into_an_image_query_as_image_search_blends_it(client: TestClient) -> None:
    blue = image_bytes((0, 0, 250))
    query = '{"text": "red", "image_weight": 0.3, "min_score": 0.8}'
    saved = save_image(client, blue, query=query).json()
    assert ids(client.get(str(saved["images"])).json()) == ["a", "b"]  # mostly red


@pytest.mark.parametrize(
    ("data", "name", "query", "status", "says"),
    [
        (b"not an image at all", "x", None, 415, "image"),
        (b"", "x", None, 400, "empty"),
        (image_bytes((250, 0, 0)), "", None, 422, "name"),
        (image_bytes((250, 0, 0)), "x", "{not json", 400, "JSON"),
        (image_bytes((250, 0, 0)), "x", '{"min_score": 7}', 422, "min_score"),
        (image_bytes((250, 0, 0)), "x", '{"colour": "red"}', 422, "colour"),
    ],
)
def test_a_bad_image_search_is_refused_and_keeps_nothing(
    client: TestClient,
    store: InMemoryObjectStore,
    data: bytes,
    name: str,
    query: str | None,
    status: int,
    says: str,
) -> None:
    response = save_image(client, data, name=name, query=query)
    assert response.status_code == status, response.text
    assert says in response.text and "Traceback" not in response.text
    assert not any(k.startswith(("saved-search-images/", "saved-searches/")) for k in store.objects)


def test_a_query_naming_an_image_never_kept_is_refused(client: TestClient) -> None:
    body = {"name": "x", "query": {"image": "f" * 64, "min_score": 0.5}}
    response = client.post("/api/v1/saved-searches", json=body)
    assert response.status_code == 422 and "no query image" in response.text
