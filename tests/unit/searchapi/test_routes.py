from collections.abc import Iterator

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.container import Container
from searchapi.main import create_app
from searchapi.settings import SearchApiSettings
from shared.vectors import ImageRecord
from shared.web.signing import UrlSigner
from tests.unit.fakes import ColourEmbedder, InMemoryVectorIndex


@pytest.fixture
def client() -> Iterator[TestClient]:
    index = InMemoryVectorIndex()
    for name, vector in [("r", [1.0, 0.0, 0.0]), ("g", [0.0, 1.0, 0.0]), ("b", [0.0, 0.0, 1.0])]:
        image_id = name * 64
        index.upsert([ImageRecord(image_id, vector, f"{name}.png", "image/png", 4, 3, 10, 0)])
    container = Container(settings=SearchApiSettings())
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    with TestClient(create_app(container)) as c:
        yield c


def test_text_search_ranks_by_similarity(client: TestClient) -> None:
    params: dict[str, str | int] = {"text": "green green red", "limit": 2}
    body = client.get("/api/v1/image/search", params=params).json()
    assert [i["id"] for i in body["items"]] == ["g" * 64, "r" * 64]
    assert body["items"][0]["score"] == pytest.approx(2 / 5**0.5, abs=1e-5)
    assert body["items"][0]["url"] == "/images/" + "g" * 64
    assert body["items"][0]["filename"] == "g.png"
    assert body["took_ms"] >= 0


@pytest.mark.parametrize(
    "params",
    [{}, {"text": ""}, {"text": "red", "limit": 0}, {"text": "red", "limit": 201},
     {"text": "red", "limit": "many"}, {"text": "x" * 4001}],
)  # fmt: skip
def test_bad_parameters_are_422_with_a_reason(
    client: TestClient, params: dict[str, str | int]
) -> None:
    response = client.get("/api/v1/image/search", params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert response.json()["detail"]


def test_blank_text_is_400(client: TestClient) -> None:
    response = client.get("/api/v1/image/search", params={"text": "   "})
    assert response.status_code == 400
    assert response.json() == {"error": "bad_request", "detail": "text must not be blank"}


def test_openapi_documents_each_error_body_the_route_can_send(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    similar = spec["paths"]["/api/v1/images/{image_id}/similar"]["get"]["responses"]
    assert {"401", "404", "422", "429", "503"} <= set(similar)
    assert similar["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert similar["404"]["description"].startswith("not_found: No such image")
    # a validation error is documented with the body it really has, not FastAPI's default
    assert "invalid_request" in similar["422"]["description"]
    body = client.get("/api/v1/image/search", params={"text": "red", "limit": 0}).json()
    error_body = spec["components"]["schemas"]["ErrorBody"]
    assert set(error_body["required"]) <= set(body) <= set(error_body["properties"])
    bad_query = client.get("/api/v1/image/search", params={"text": "red OR"}).json()
    assert set(bad_query) == set(error_body["properties"])
    assert client.get(f"/api/v1/images/{'f' * 64}/similar").json()["error"] == "not_found"


def test_protected_reads_hand_out_signed_image_urls() -> None:
    index = InMemoryVectorIndex()
    index.upsert([ImageRecord("r" * 64, [1.0, 0.0, 0.0], "r.png", "image/png", 4, 3, 10, 0)])
    auth = {"api_keys": ["k-5e2a"], "protect_reads": True, "url_signing_key": "sig-77f0"}
    container = Container(settings=SearchApiSettings(auth=auth))  # type: ignore[arg-type]
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(index))
    with TestClient(create_app(container)) as c:
        assert c.get("/api/v1/image/search", params={"text": "red"}).status_code == 401
        item = c.get(
            "/api/v1/image/search", params={"text": "red"}, headers={"X-API-Key": "k-5e2a"}
        ).json()["items"][0]
    signer = UrlSigner("sig-77f0", 3600)
    for field, path in [("url", ""), ("thumbnail_url", "/thumbnail"), ("preview_url", "/preview")]:
        url_path, _, query = item[field].partition("?")
        assert url_path == f"/images/{'r' * 64}{path}"
        values = dict(part.split("=") for part in query.split("&"))
        assert signer.verify(url_path, values["exp"], values["sig"])


def test_a_query_image_is_not_read_before_the_key_is_checked() -> None:
    auth = {"api_keys": ["k-5e2a"], "protect_reads": True, "url_signing_key": "sig-77f0"}
    settings = SearchApiSettings(auth=auth, search={"max_upload_bytes": 1000})  # type: ignore[arg-type]
    container = Container(settings=settings)
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(InMemoryVectorIndex()))
    with TestClient(create_app(container)) as c:
        bad = c.post(
            "/api/v1/image/search",
            content=b"not a form",
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert bad.status_code == 401
        big = c.post(
            "/api/v1/image/search",
            files={"file": ("a.png", b"x" * 200_000)},
            headers={"X-API-Key": "k-5e2a"},
        )
        assert big.status_code == 413
        assert "search.max_upload_bytes" in big.json()["detail"]
