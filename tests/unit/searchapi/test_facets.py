"""Facets over the filtered library and over a query's results: counts, order, bounds."""

from collections.abc import Iterator

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.container import Container
from searchapi.facet_counts import count_facets
from searchapi.main import create_app
from searchapi.settings import SearchApiSettings
from shared.vectors import ImageRecord
from shared.vectors.milvus_client import UNKNOWN_TIME
from tests.unit.fakes import ColourEmbedder, InMemoryVectorIndex

JAN_2019, JUL_2021 = 1546300800, 1625097600
LISBON = {"city": "Lisbon", "country": "Portugal", "country_code": "PT", "region": "Lisbon"}
PORTO = {"city": "Porto", "country": "Portugal", "country_code": "PT", "region": "Porto"}


def record(name: str, vector: list[float], taken: int | None, tags: list[str],
           place: dict[str, str] | None, camera: str = "") -> ImageRecord:  # fmt: skip
    auto_tags = ["sea"] if place is PORTO else ["street", "sea"] if place else []
    return ImageRecord(
        name * 64, vector, f"{name}.jpg", "image/jpeg", 4, 3, 10, 0, taken_at=taken,
        camera=camera, tags=tags, extra={**(place or {}), "auto_tags": auto_tags},
    )  # fmt: skip


@pytest.fixture
def client() -> Iterator[TestClient]:
    index = InMemoryVectorIndex()
    index.upsert(
        [
            record("a", [1.0, 0.0, 0.0], JAN_2019, ["tram", "city"], LISBON, "Pixel 7"),
            record("b", [0.9, 0.1, 0.0], JUL_2021, ["tram"], LISBON, "Pixel 7"),
            record("c", [0.0, 1.0, 0.0], JUL_2021, ["beach"], PORTO),
            record("d", [0.0, 0.0, 1.0], None, [], None),
        ]
    )
    settings = SearchApiSettings(search={"facet_depth": 2, "facet_rows": 3})  # type: ignore[arg-type]
    container = Container(settings=settings)
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    with TestClient(create_app(container)) as c:
        yield c


def values(facet: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(v["value"], v["count"]) for v in facet]


def test_the_filtered_library_is_counted_up_to_its_bound(client: TestClient) -> None:
    body = client.get("/api/v1/facets", params={"place": "Portugal"}).json()
    assert (body["counted"], body["complete"]) == (3, True)
    assert values(body["countries"]) == [("Portugal", 3)]
    assert values(body["cities"]) == [("Lisbon", 2), ("Porto", 1)]
    assert values(body["tags"]) == [("tram", 2), ("beach", 1), ("city", 1)]
    assert values(body["years"]) == [("2021", 2), ("2019", 1)]
    assert values(body["cameras"]) == [("Pixel 7", 2)]
    everything = client.get("/api/v1/facets").json()
    assert (everything["counted"], everything["complete"]) == (3, False)  # facet_rows: 3


def test_a_query_counts_its_best_results(client: TestClient) -> None:
    body = client.get("/api/v1/facets", params={"text": "red"}).json()
    assert body["counted"] == 2  # facet_depth: the red ones, a and b
    assert values(body["cities"]) == [("Lisbon", 2)]
    assert body["complete"] is False
    narrowed = client.get("/api/v1/facets", params={"text": "red", "tags": "beach"}).json()
    assert values(narrowed["cities"]) == [("Porto", 1)]


def test_auto_tags_are_counted_apart_from_tags_and_filter_with_auto_tags(
    client: TestClient,
) -> None:
    body = client.get("/api/v1/facets", params={"place": "Portugal"}).json()
    assert values(body["auto_tags"]) == [("sea", 3), ("street", 2)]
    assert ("sea", 3) not in values(body["tags"])
    kept = client.get("/api/v1/facets", params={"auto_tags": "street", "place": "PT"}).json()
    assert kept["counted"] == 2 and values(kept["cities"]) == [("Lisbon", 2)]
    both = {"auto_tags": ["street", "sea"], "tags_mode": "all", "place": "PT"}
    assert client.get("/api/v1/facets", params=both).json()["counted"] == 2


@pytest.mark.parametrize(
    "params", [{"text": "   "}, {"text": "red OR"}, {"place": ""}, {"place": "a\x00b"}]
)
def test_bad_queries_and_filters_are_refused_with_a_reason(
    client: TestClient, params: dict[str, str]
) -> None:
    response = client.get("/api/v1/facets", params=params)
    assert response.status_code in (400, 422)
    assert response.json()["detail"]


def test_counts_skip_missing_values_and_unknown_dates() -> None:
    rows: list[dict[str, object]] = [
        {"tags": ["x", "x"], "taken_at": UNKNOWN_TIME, "camera": ""},
        {"tags": None},
    ]
    facets = count_facets(rows, complete=True)
    assert facets.counted == 2
    assert values([v.model_dump() for v in facets.tags]) == [("x", 1)]  # once per image
    assert facets.years == [] and facets.cameras == [] and facets.countries == []
