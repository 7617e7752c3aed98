import io

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient
from PIL import Image

from cdnapi.api.v1.images import ImageGone
from cdnapi.container import Container
from cdnapi.main import create_app
from cdnapi.settings import CdnApiSettings
from shared.config import StorageSettings
from shared.errors import Unavailable
from shared.ids import content_id, original_key, preview_key, thumbnail_key
from shared.web.signing import UrlSigner
from tests.support.images import image_bytes
from tests.unit.fakes import InMemoryObjectStore


class DownStore(InMemoryObjectStore):
    def open(self, key: str, offset: int = 0, length: int | None = None):  # type: ignore[no-untyped-def]
        raise Unavailable("object storage unreachable")

    def stat(self, key: str):  # type: ignore[no-untyped-def]
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


@pytest.mark.parametrize(
    ("header", "status", "body", "content_range"),
    [
        ("bytes=0-9", 206, slice(0, 10), "bytes 0-9/{n}"),
        ("bytes=10-", 206, slice(10, None), "bytes 10-{last}/{n}"),
        ("bytes=-5", 206, slice(-5, None), "bytes {n5}-{last}/{n}"),
        ("bytes=5-999999", 206, slice(5, None), "bytes 5-{last}/{n}"),
        ("bytes=999999-", 416, None, "bytes */{n}"),
        ("bytes=9-2", 200, slice(None), None),  # invalid: ignored
        ("bytes=0-1,4-5", 200, slice(None), None),  # several ranges: the whole object
    ],
)
def test_byte_ranges(  # type: ignore[no-untyped-def]
    stored, header: str, status: int, body: slice | None, content_range: str | None
) -> None:
    store, data = stored
    n = len(data)
    response = make_client(store).get(f"/images/{content_id(data)}", headers={"Range": header})
    assert response.status_code == status
    if body is not None:
        assert response.content == data[body]
        assert response.headers["content-length"] == str(len(data[body]))
    expected = content_range.format(n=n, last=n - 1, n5=n - 5) if content_range else None
    assert response.headers.get("content-range") == expected


def test_head_and_if_none_match(stored) -> None:  # type: ignore[no-untyped-def]
    store, data = stored
    image_id = content_id(data)
    client = make_client(store)
    head = client.head(f"/images/{image_id}")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["content-type"] == "image/jpeg"
    assert head.headers["etag"] == f'"{image_id}"'
    store.opened.clear()
    again = client.get(f"/images/{image_id}", headers={"If-None-Match": f'"{image_id}"'})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == f'"{image_id}"'
    assert store.opened == []  # answered without touching storage
    assert (
        client.get(f"/images/{image_id}", headers={"If-None-Match": '"other"'}).status_code == 200
    )


def test_storage_down_is_503_for_head_and_ranges_too() -> None:
    client = make_client(DownStore())
    assert client.head(f"/images/{'a' * 64}").status_code == 503
    ranged = client.get(f"/images/{'a' * 64}", headers={"Range": "bytes=0-1"})
    assert ranged.status_code == 503


def protected_client(store: InMemoryObjectStore) -> TestClient:
    settings = CdnApiSettings(
        storage=StorageSettings(access_key="k", secret_key="s"),
        auth={"api_keys": ["k-41c7"], "protect_reads": True, "url_signing_key": "sig-93ab"},  # type: ignore[arg-type]
    )
    container = Container(settings=settings)
    container.object_store.override(providers.Object(store))
    return TestClient(create_app(container))


def test_protected_reads_take_a_key_or_a_signed_url(stored) -> None:  # type: ignore[no-untyped-def]
    store, data = stored
    image_id = content_id(data)
    client = protected_client(store)
    assert client.get(f"/images/{image_id}").status_code == 401
    assert client.get(f"/images/{image_id}", headers={"X-API-Key": "k-41c7"}).status_code == 200
    signed = UrlSigner("sig-93ab", 3600).sign(f"/images/{image_id}/thumbnail")
    response = client.get(signed)
    assert response.status_code == 200
    # browsers keep their copy; no shared cache other than nginx's (which checks signatures)
    assert response.headers["cache-control"].startswith("private")
    # a signature is for one URL only, and made with the configured key
    other = signed.replace("/thumbnail", "/preview")
    assert client.get(other).status_code == 401
    forged = UrlSigner("guessed", 3600).sign(f"/images/{image_id}")
    assert client.get(forged).status_code == 401
    expired = UrlSigner("sig-93ab", 60, now=lambda: 0.0).sign(f"/images/{image_id}")
    assert client.get(expired).status_code == 401


def test_signed_urls_are_checked_by_the_containers_one_signer(stored) -> None:  # type: ignore[no-untyped-def]
    """The route dependencies take the signer from the app's container (its one root): the
    signer a test puts there is the one that decides."""
    store, data = stored
    image_id = content_id(data)
    settings = CdnApiSettings(
        storage=StorageSettings(access_key="k", secret_key="s"),
        auth={"api_keys": ["k-41c7"], "protect_reads": True, "url_signing_key": "sig-93ab"},  # type: ignore[arg-type]
    )
    container = Container(settings=settings)
    container.object_store.override(providers.Object(store))
    assert container.url_signer() is container.url_signer()  # one per process
    container.url_signer.override(providers.Object(UrlSigner("rotated-77", 3600)))
    client = TestClient(create_app(container))
    path = f"/images/{image_id}"
    assert client.get(UrlSigner("rotated-77", 3600).sign(path)).status_code == 200
    assert client.get(UrlSigner("sig-93ab", 3600).sign(path)).status_code == 401


def test_protected_reads_need_a_signing_key() -> None:
    with pytest.raises(ValueError, match="url_signing_key"):
        CdnApiSettings(
            storage=StorageSettings(access_key="k", secret_key="s"),
            auth={"api_keys": ["k-41c7"], "protect_reads": True},  # type: ignore[arg-type]
        )


class DeletedWhileStreaming(InMemoryObjectStore):
    """The image is deleted once its first chunk went out."""

    def open(self, key: str, offset: int = 0, length: int | None = None):  # type: ignore[no-untyped-def]
        opened = super().open(key, offset, length)
        data = b"".join(opened.chunks)

        def chunks():  # type: ignore[no-untyped-def]
            yield data[: 64 * 1024]
            self.delete([key])
            for at in range(64 * 1024, len(data), 64 * 1024):
                yield data[at : at + 64 * 1024]

        return type(opened)(key, len(data), opened.content_type, chunks(), lambda: None, {})


def test_a_cache_fill_of_an_image_deleted_meanwhile_is_cut_short_before_its_last_byte() -> None:
    data = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 3000  # past SMALL_BYTES: streamed
    image_id = content_id(data)
    store = DeletedWhileStreaming()
    store.put(original_key(image_id), data, "image/jpeg")
    with pytest.raises(ImageGone):
        make_client(store).get(f"/images/{image_id}", headers={"X-Cache-Fill": "1"})
    # a response no shared cache keeps goes out whole, without the extra storage request
    store.put(original_key(image_id), data, "image/jpeg")
    response = make_client(store).get(f"/images/{image_id}")
    assert response.status_code == 200 and response.content == data
