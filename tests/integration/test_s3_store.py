import pytest

from imagesearch_dev.localstack import Stack
from shared.config import StorageSettings
from shared.errors import NotFound, Unavailable
from shared.storage import MinioObjectStore
from tests.support.stack import storage_settings


@pytest.fixture
def store(infra: Stack) -> MinioObjectStore:
    store = MinioObjectStore.from_settings(storage_settings(infra))
    store.ensure_bucket()
    return store


def test_put_then_stream_back_with_type_and_metadata(store: MinioObjectStore) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB: several stream chunks
    store.put("originals/x", data, "image/png", {"filename": "Été à Paris 🌅.png"})
    assert store.exists("originals/x")
    obj = store.open("originals/x")
    try:
        assert b"".join(obj.chunks) == data
    finally:
        obj.close()
    assert obj.size == len(data)
    assert obj.content_type == "image/png"
    assert obj.metadata["filename"] == "Été à Paris 🌅.png"


def test_list_keys_under_a_prefix(store: MinioObjectStore) -> None:
    for key in ["originals/a", "originals/b", "thumbs/a/256"]:
        store.put(key, b"x", "image/png")
    assert sorted(store.list_keys("originals/")) == ["originals/a", "originals/b"]


def test_missing_object_is_not_found(store: MinioObjectStore) -> None:
    assert not store.exists("originals/none")
    with pytest.raises(NotFound):
        store.open("originals/none")


def test_ensure_bucket_is_idempotent(store: MinioObjectStore) -> None:
    store.put("originals/kept", b"bytes", "image/jpeg")
    store.ensure_bucket()  # again, on a bucket that exists and holds an object
    store.ping()
    assert store.open("originals/kept").read() == b"bytes"


def test_unreachable_server_is_unavailable(infra: Stack) -> None:
    from tests.support.ports import free_ports

    settings = storage_settings(infra)
    down = StorageSettings(**{**settings.model_dump(), "endpoint": f"127.0.0.1:{free_ports(1)[0]}"})
    with pytest.raises(Unavailable):
        MinioObjectStore.from_settings(down).put("k", b"x", "image/png")


def test_delete_many_keys_some_absent(store: MinioObjectStore) -> None:
    for key in ["originals/a", "details/a.json", "previews/b.jpg"]:
        store.put(key, b"x", "image/png")
    store.delete(["originals/a", "details/a.json", "thumbnails/never.jpg"])
    assert list(store.list_keys("")) == ["previews/b.jpg"]
    store.delete([])


def test_set_metadata_keeps_bytes_type_and_other_metadata(store: MinioObjectStore) -> None:
    data = bytes(range(256)) * 64
    store.put("originals/m", data, "image/webp", {"filename": "Été.webp", "uploaded-at": "t"})
    store.set_metadata("originals/m", {"details": "1"})
    info = store.stat("originals/m")
    assert info.metadata == {"filename": "Été.webp", "uploaded-at": "t", "details": "1"}
    assert (info.content_type, info.size) == ("image/webp", len(data))
    assert store.open("originals/m").read() == data
    with pytest.raises(NotFound):
        store.set_metadata("originals/none", {"details": "1"})
