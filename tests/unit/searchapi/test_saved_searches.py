"""Saved searches through searchapi's routes, with fakes behind them: saved (durably, in object
storage) only when the query reads, compiled for the live model, paged as a search with the
saved threshold, compiled again after a model switch; bad input refused with a reason."""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from unittest import mock

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.container import Container
from searchapi.main import create_app
from searchapi.settings import SearchApiSettings
from shared.saved_searches.store import saved_search_key
from shared.vectors import ImageRecord
from tests.unit.fakes import ColourEmbedder, InMemoryObjectStore, InMemoryVectorIndex

RED, REDDISH, BLUE = [1.0, 0.0, 0.0], [0.9, 0.3, 0.0], [0.0, 0.0, 1.0]


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
