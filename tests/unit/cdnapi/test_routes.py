import io

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient
from PIL import Image

from cdnapi.container import Container
from cdnapi.main import create_app
from cdnapi.settings import CdnApiSettings
from shared.config import StorageSettings
from shared.errors import Unavailable
from shared.ids import content_id, original_key, preview_key, thumbnail_key
from tests.unit.fakes import InMemoryObjectStore, image_bytes


class DownStore(InMemoryObjectStore):
    def open(self, key: str):  # type: ignore[no-untyped-def]
        raise Unavailable("object storage unreachable")


def make_client(store: InMemoryObjectStore) -> TestClient:
    container = Container(
        settings=CdnApiSettings(storage=StorageSettings(access_key="k", secret_key="s"))
    )
    container.object_store.override(providers.Object(store))
    return TestClient(create_app(container))


@pytest.fixture
def stored() -> tuple[InMemoryObjectStore, bytes]:
    store, data = InMemoryObjectStore(), image_bytes(fmt="JPEG")
    store.put(original_key(content_id(data)), data, "image/jpeg")
    return store, data


def test_streams_the_original_with_its_type_and_caching(stored) -> None:  # type: ignore[no-untyped-def]
    store, data = stored
    response = make_client(store).get(f"/images/{content_id(data)}")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["etag"] == f'"{content_id(data)}"'
    assert "immutable" in response.headers["cache-control"]


@pytest.mark.parametrize("bad", ["0" * 64, "abc", "A" * 64, "..%2F..%2Fetc%2Fpasswd", "0" * 65])
def test_unknown_or_malformed_id_is_404(stored, bad: str) -> None:  # type: ignore[no-untyped-def]
    store, _ = stored
    response = make_client(store).get(f"/images/{bad}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_storage_down_is_503() -> None:
    response = make_client(DownStore()).get(f"/images/{'a' * 64}")
    assert response.status_code == 503
    assert response.headers["retry-after"]


def test_a_missing_thumbnail_is_made_once_and_stored(
    stored: tuple[InMemoryObjectStore, bytes],
) -> None:
    store, data = stored
    image_id = content_id(data)
    with make_client(store) as client:
        response = client.get(f"/images/{image_id}/thumbnail")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(response.content)).size == (64, 48)  # never enlarged
        assert thumbnail_key(image_id) in store.objects
        assert preview_key(image_id) in store.objects
        assert client.get(f"/images/{image_id}/preview").status_code == 200
        assert client.get(f"/images/{image_id}/huge").status_code == 422
        assert client.get(f"/images/{'0' * 64}/thumbnail").status_code == 404
