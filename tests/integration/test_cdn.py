"""cdnapi against the real S3 server: every header and status of image delivery."""

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from cdnapi.container import Container
from cdnapi.main import create_app
from cdnapi.settings import CdnApiSettings
from imagesearch_dev.localstack import Stack
from shared.config import StorageSettings
from shared.ids import content_id, original_key, thumbnail_key
from shared.storage import MinioObjectStore
from tests.support.images import image_bytes
from tests.support.ports import free_ports
from tests.support.stack import storage_settings


def cdn(storage: StorageSettings) -> TestClient:
    return TestClient(create_app(Container(settings=CdnApiSettings(storage=storage))))


@pytest.fixture(scope="module")
def stored(infra: Stack) -> Iterator[tuple[TestClient, MinioObjectStore, bytes]]:
    settings = storage_settings(infra)
    store = MinioObjectStore.from_settings(settings)
    store.ensure_bucket()
    data = image_bytes("teal", fmt="JPEG", size=(640, 480))
    store.put(original_key(content_id(data)), data, "image/jpeg", {"filename": "t.jpg"})
    with cdn(settings) as client:
        yield client, store, data


def test_get_streams_with_every_header(stored: tuple[TestClient, MinioObjectStore, bytes]) -> None:
    client, _, data = stored
    image_id = content_id(data)
    response = client.get(f"/images/{image_id}")
    assert (response.status_code, response.content) == (200, data)
    headers = response.headers
    assert headers["content-type"] == "image/jpeg"
    assert headers["content-length"] == str(len(data))
    assert headers["etag"] == f'"{image_id}"'
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["accept-ranges"] == "bytes"


def test_head_304_and_ranges(stored: tuple[TestClient, MinioObjectStore, bytes]) -> None:
    client, _, data = stored
    url = f"/images/{content_id(data)}"
    head = client.head(url)
    assert (head.status_code, head.content, head.headers["content-length"]) == (
        200,
        b"",
        str(len(data)),
    )
    not_modified = client.get(url, headers={"If-None-Match": head.headers["etag"]})
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert (part.status_code, part.content) == (206, data[100:200])
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["content-length"] == "100"
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert tail.content == data[-10:]
    past = client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{len(data)}"


def test_a_missing_thumbnail_is_made_and_stored(
    stored: tuple[TestClient, MinioObjectStore, bytes],
) -> None:
    client, store, data = stored
    image_id = content_id(data)
    assert not store.exists(thumbnail_key(image_id))
    response = client.get(f"/images/{image_id}/thumbnail")
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (256, 192)
    assert store.exists(thumbnail_key(image_id))
    assert client.head(f"/images/{image_id}/preview").headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize(
    "path",
    [
        "/images/" + "0" * 64,
        "/images/" + "0" * 65,
        "/images/" + "A" * 64,
        "/images/..%2F..%2Foriginals%2F" + "0" * 64,
        "/images/%2e%2e/%2e%2e/etc/passwd",
        "/images/" + "0" * 64 + "/thumbnail/../../x",
        "/images/" + "0" * 5000,
    ],
)
def test_bad_or_unknown_ids_are_404(
    stored: tuple[TestClient, MinioObjectStore, bytes], path: str
) -> None:
    client, _, _ = stored
    response = client.get(path)
    assert response.status_code == 404
    assert "Traceback" not in response.text


def test_storage_down_is_503_not_500(infra: Stack) -> None:
    dead = storage_settings(infra).model_copy(update={"endpoint": f"127.0.0.1:{free_ports(1)[0]}"})
    with cdn(dead) as client:
        response = client.get(f"/images/{'a' * 64}")
        assert response.status_code == 503
        assert response.headers["retry-after"]
        assert client.head(f"/images/{'a' * 64}").status_code == 503
