import random
from collections.abc import Iterator, Sequence
from dataclasses import replace

import limits.storage.memory
import numpy as np
import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.container import Container
from searchapi.main import create_app
from searchapi.service import autocut
from searchapi.settings import SearchApiSettings
from shared.vectors import ImageFilter, ImageRecord, SearchHit
from shared.web import ratelimit
from tests.support.images import image_bytes
from tests.support.metrics import metric_sum
from tests.support.ports import free_ports
from tests.unit.fakes import ColourEmbedder, InMemoryVectorIndex


def record(n: int, vector: list[float], **kw: object) -> ImageRecord:
    image_id = f"{n:064x}"
    return ImageRecord(image_id, vector, f"{n}.png", "image/png", 10, 10, 1, 1000 + n, **kw)  # type: ignore[arg-type]


@pytest.fixture
def index() -> InMemoryVectorIndex:
    rng = np.random.default_rng(3)
    index = InMemoryVectorIndex()
    for n in range(40):
        v = rng.normal(size=3)
        index.upsert([record(n, list(v / np.linalg.norm(v)), taken_at=2000 - n * 7 % 13)])
    return index


@pytest.fixture
def client(index: InMemoryVectorIndex) -> Iterator[TestClient]:
    settings = SearchApiSettings(search={"max_depth": 35})  # type: ignore[arg-type]
    container = Container(settings=settings)
    embedder = ColourEmbedder()
    container.embedder.override(providers.Object(embedder))
    container.vector_index.override(providers.Object(index))
    with TestClient(create_app(container)) as c:
        c.app.state.embedder = embedder  # type: ignore[attr-defined]
        yield c


def hit(score: float, n: int = 0) -> SearchHit:
    return SearchHit(f"{n:064x}", score, {})


def test_autocut_keeps_what_comes_before_the_cliff() -> None:
    hits = [hit(s, n) for n, s in enumerate([0.91, 0.90, 0.88, 0.52, 0.50, 0.49])]
    assert [h.score for h in autocut(hits)] == [0.91, 0.90, 0.88]
    even = [hit(s, n) for n, s in enumerate([0.9, 0.8, 0.7, 0.6])]
    assert autocut(even) == even


def test_pages_return_every_item_exactly_once_in_a_stable_order(client: TestClient) -> None:
    seen: list[str] = []
    url: str | None = "/api/v1/image/search?text=red&limit=7"
    while url:
        body = client.get(url).json()
        seen += [i["id"] for i in body["items"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 35  # max_depth
    whole = client.get("/api/v1/image/search", params={"text": "red", "limit": 35}).json()
    assert seen == [i["id"] for i in whole["items"]]


def test_min_score_and_auto_cutoff_drop_the_tail(client: TestClient) -> None:
    all_hits = client.get("/api/v1/image/search", params={"text": "red", "limit": 35}).json()
    above = client.get(
        "/api/v1/image/search", params={"text": "red", "limit": 35, "min_score": 0.5}
    ).json()
    assert above["items"] and all(i["score"] > 0.5 for i in above["items"])
    assert len(above["items"]) == sum(i["score"] > 0.5 for i in all_hits["items"])
    cut = client.get(
        "/api/v1/image/search", params={"text": "red", "limit": 35, "cutoff": "auto"}
    ).json()
    assert 0 < len(cut["items"]) < 35


def test_sort_by_date_orders_the_relevant_ones_newest_first(client: TestClient) -> None:
    body = client.get(
        "/api/v1/image/search",
        params={"text": "red", "limit": 35, "min_score": 0.3, "sort": "date"},
    ).json()
    dates = [i["taken_at"] for i in body["items"]]
    assert dates == sorted(dates, reverse=True)
    assert all(i["score"] > 0.3 for i in body["items"])


def test_repeated_text_queries_use_the_cached_vector(client: TestClient) -> None:
    embedder = client.app.state.embedder  # type: ignore[attr-defined]
    for _ in range(3):
        client.get("/api/v1/image/search", params={"text": "blue"})
    assert embedder.text_calls == 2  # the warm-up at start, then one for the three queries


def test_an_uploaded_image_finds_its_twin_first(index: InMemoryVectorIndex) -> None:
    index.upsert([record(99, [1.0, 0.0, 0.0])])  # pure red, as the fake embeds a red image
    settings = SearchApiSettings()
    container = Container(settings=settings)
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    with TestClient(create_app(container)) as client:
        files = {"file": ("q.png", image_bytes("red"), "image/png")}
        body = client.post("/api/v1/image/search", files=files).json()
        assert body["items"][0]["id"] == f"{99:064x}"
        assert body["items"][0]["score"] == pytest.approx(1.0)
        assert body["items"][0]["thumbnail_url"] == f"/images/{99:064x}/thumbnail"
        bad = client.post("/api/v1/image/search", files={"file": ("q.png", b"text", "x/y")})
        assert bad.status_code == 415


def test_similar_leaves_the_image_itself_out(
    client: TestClient, index: InMemoryVectorIndex
) -> None:
    image_id = f"{5:064x}"
    body = client.get(f"/api/v1/images/{image_id}/similar", params={"limit": 10}).json()
    assert image_id not in [i["id"] for i in body["items"]]
    assert len(body["items"]) == 10
    assert client.get(f"/api/v1/images/{'f' * 64}/similar").status_code == 404
    assert client.get("/api/v1/images/..%2f..%2fetc/similar").status_code == 404


def test_filters_keep_only_the_images_that_match_every_condition(
    client: TestClient, index: InMemoryVectorIndex
) -> None:
    source = 'phone" or id != "x'
    match = replace(
        record(90, [1.0, 0.0, 0.0]),
        tags=("beach", "sea", "sun"),
        content_type="image/jpeg",
        width=1200,
        taken_at=1_710_000_000,  # 2024-03-09
        source=source,
    )
    misses = [
        replace(match, id=f"{91:064x}", tags=("beach",)),  # not every tag
        replace(match, id=f"{92:064x}", content_type="image/png"),
        replace(match, id=f"{93:064x}", width=640),
        replace(match, id=f"{94:064x}", taken_at=1_600_000_000),  # 2020
        replace(match, id=f"{95:064x}", taken_at=None),  # no date taken: outside any range
        replace(match, id=f"{96:064x}", source="phone"),
    ]
    index.upsert([match, *misses])
    body = client.get(
        "/api/v1/image/search",
        params=[
            ("text", "red"),
            ("tags", "beach,sea"),
            ("tags_mode", "all"),
            ("content_type", "image/jpeg"),
            ("min_width", "800"),
            ("taken_from", "2024-01-01"),
            ("taken_to", "2024-12-31"),
            ("source", source),
        ],
    ).json()
    assert [item["id"] for item in body["items"]] == [match.id]
    assert body["items"][0]["tags"] == ["beach", "sea", "sun"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"offset": 30, "limit": 10},  # past max_depth 35
        {"cutoff": "sometimes"},
        {"sort": "size"},
        {"min_score": 2},
        {"taken_from": "2024-02-01", "taken_to": "2024-01-01"},
        {"taken_from": "last tuesday"},
        {"content_type": "text/html"},
        {"tags": "x" * 65},
        {"min_width": 0},
    ],
)
def test_bad_parameters_are_422_with_a_reason(
    client: TestClient, params: dict[str, object]
) -> None:
    response = client.get("/api/v1/image/search", params={"text": "red", **params})  # type: ignore[dict-item]
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def sample(client: TestClient, name: str, **labels: str) -> float:
    """One sample of GET /metrics (0 when absent)."""
    return metric_sum(client.get("/metrics").text, name, **labels) or 0.0


def test_metrics_count_requests_and_split_search_time(client: TestClient) -> None:
    route = "/api/v1/image/search"
    before = {
        "requests": sample(client, "imagesearch_http_requests_total", route=route, status="200"),
        "encode": sample(client, "imagesearch_search_seconds_count", stage="encode"),
        "vector": sample(client, "imagesearch_search_seconds_count", stage="vector_search"),
    }
    client.get(route, params={"text": "a new query for the metrics"})
    assert sample(client, "imagesearch_http_requests_total", route=route, status="200") == (
        before["requests"] + 1
    )
    assert sample(client, "imagesearch_search_seconds_count", stage="encode") == (
        before["encode"] + 1
    )
    assert sample(client, "imagesearch_search_seconds_count", stage="vector_search") == (
        before["vector"] + 1
    )
    # routes are templates: ids never become label values
    client.get(f"/api/v1/images/{'a' * 64}/similar")
    similar = "/api/v1/images/{image_id}/similar"
    assert sample(client, "imagesearch_http_requests_total", route=similar, status="404") >= 1


FROM_A = {"X-Real-IP": "203.0.113.5"}


def limited_client(index: InMemoryVectorIndex, limit: str, peer: str) -> TestClient:
    """A searchapi limited to ``limit`` searches per client, reached from ``peer``."""
    container = Container(settings=SearchApiSettings(rate_limit={"search": limit}))  # type: ignore[arg-type]
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    return TestClient(create_app(container), client=(peer, 50000))


class Clock:
    """The rate limiter's time, moved by the test: no request has to land inside a window of
    the wall clock."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


def test_rate_limit_answers_429_then_lets_the_client_back_in(
    index: InMemoryVectorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    monkeypatch.setattr(ratelimit, "time", clock)
    # the peer is nginx (trusted): it names each client in X-Real-IP
    with limited_client(index, "3/second", "127.0.0.1") as client:
        statuses = [
            client.get("/api/v1/image/search", params={"text": "red"}, headers=FROM_A).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/api/v1/image/search", params={"text": "red"}, headers=FROM_A)
        assert limited.json()["error"] == "too_many_requests"
        assert int(limited.headers["retry-after"]) == 1
        other = client.get(
            "/api/v1/image/search", params={"text": "red"}, headers={"X-Real-IP": "10.9.8.7"}
        )
        assert other.status_code == 200  # limits are per client
        clock.now += 0.5
        again = client.get("/api/v1/image/search", params={"text": "red"}, headers=FROM_A)
        assert again.status_code == 429  # still inside the window
        clock.now += 1.0
        back = client.get("/api/v1/image/search", params={"text": "red"}, headers=FROM_A)
        assert back.status_code == 200  # the window has moved past the three


def test_only_a_trusted_proxy_names_the_client(index: InMemoryVectorIndex) -> None:
    # a client reaching the API directly cannot pick a fresh bucket per request
    with limited_client(index, "2/minute", "192.0.2.7") as client:
        statuses = [
            client.get(
                "/api/v1/image/search", params={"text": "red"}, headers={"X-Real-IP": f"10.0.0.{i}"}
            ).status_code
            for i in range(3)
        ]
    assert statuses == [200, 200, 429]


def test_a_query_image_over_the_pixel_limit_names_searchapis_own_key(
    index: InMemoryVectorIndex,
) -> None:
    settings = SearchApiSettings(search={"max_pixels": 1000})  # type: ignore[arg-type]
    container = Container(settings=settings)
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    with TestClient(create_app(container)) as client:
        files = {"file": ("big.png", image_bytes("red", size=(100, 100)), "image/png")}
        response = client.post("/api/v1/image/search", files=files)
    assert response.status_code == 413
    assert "over the limit of 1000 (search.max_pixels)" in response.json()["detail"]


class ShuffledTiesIndex(InMemoryVectorIndex):
    """Like Milvus, returns any `limit` of a group of equal scores, in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.rng = random.Random(7)
        self.windows: list[int] = []

    def search(
        self,
        vector: Sequence[float],
        limit: int,
        where: ImageFilter | None = None,
        min_score: float | None = None,
    ) -> list[SearchHit]:
        self.windows.append(limit)
        everything = super().search(vector, len(self.records), where, min_score)
        self.rng.shuffle(everything)
        return sorted(everything, key=lambda h: -round(h.score, 6))[:limit]


def test_paging_through_equal_scores_returns_every_image_exactly_once() -> None:
    index = ShuffledTiesIndex()
    index.upsert([record(n, [1.0, 0.0, 0.0]) for n in range(60)])  # 60 identical vectors
    index.upsert([record(100 + n, [0.0, 1.0, 0.0]) for n in range(5)])
    container = Container(settings=SearchApiSettings())
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    seen: list[str] = []
    with TestClient(create_app(container)) as client:
        url: str | None = "/api/v1/image/search?text=red&limit=7"
        while url:
            body = client.get(url).json()
            seen += [item["id"] for item in body["items"]]
            url = body["next"]
    assert len(seen) == 65 and len(set(seen)) == 65
    assert seen[:60] == sorted(seen[:60])  # equal scores: in id order
    assert max(index.windows) > 8  # the tie made the window grow past one page


def test_search_is_served_when_the_rate_limits_storage_is_down(
    index: InMemoryVectorIndex,
) -> None:
    dead = f"redis://127.0.0.1:{free_ports(1)[0]}/0"
    settings = SearchApiSettings(rate_limit={"storage_uri": dead, "search": "1/minute"})  # type: ignore[arg-type]
    container = Container(settings=settings)
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    with TestClient(create_app(container)) as client:
        before = sample(client, "imagesearch_rate_limit_errors_total", bucket="search")
        statuses = [
            client.get("/api/v1/image/search", params={"text": "red"}).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 200]  # not 500, and not limited: the limiter is out
        after = sample(client, "imagesearch_rate_limit_errors_total", bucket="search")
        assert after == before + 3


def test_a_same_picture_group_shows_once_on_every_page(index: InMemoryVectorIndex) -> None:
    """Twelve copies of image 0 (filed under it by the worker) fold into one item; pages of
    the folded order still hold every other image once."""
    first = index.records[f"{0:064x}"]
    copies = [record(100 + n, list(first.vector), dup_of=first.id) for n in range(12)]
    index.upsert(copies)
    settings = SearchApiSettings(search={"max_depth": 80})  # type: ignore[arg-type]
    container = Container(settings=settings)
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    with TestClient(create_app(container)) as client:
        seen: list[dict[str, object]] = []
        url: str | None = "/api/v1/image/search?text=red&limit=6"
        while url:
            body = client.get(url).json()
            seen += body["items"]
            url = body["next"]
        ids = [str(item["id"]) for item in seen]
        assert len(ids) == len(set(ids)) == 40
        group = [item for item in seen if item["id"] in {first.id, *(c.id for c in copies)}]
        assert len(group) == 1 and group[0]["duplicates"] == 12
        unfolded = client.get(
            "/api/v1/image/search", params={"text": "red", "limit": 80, "collapse": "false"}
        ).json()
        assert len(unfolded["items"]) == 52
        assert all(item["duplicates"] == 0 for item in unfolded["items"])
