"""Read the live collection, whichever model built it: no embedder, no torch."""

from collections.abc import Iterator, Sequence

from pymilvus import MilvusClient

from shared.config import MilvusSettings
from shared.vectors.catalog import IndexCatalog
from shared.vectors.milvus_client import fetch_rows, open_client, unavailable_on_error


class LiveIndexReader:
    def __init__(self, client: MilvusClient, prefix: str) -> None:
        self._client = client
        self._catalog = IndexCatalog(client, prefix)

    @classmethod
    def connect(cls, settings: MilvusSettings) -> "LiveIndexReader":
        with unavailable_on_error():
            client = open_client(settings)
        return cls(client, settings.collection_prefix)

    def close(self) -> None:
        self._client.close()

    def ping(self) -> None:
        with unavailable_on_error():
            self._client.has_collection(self._catalog.name)

    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        """Display fields of the ids in the live collection (none when nothing is live)."""
        with unavailable_on_error():
            if not self._client.has_collection(self._catalog.name):
                return {}
            active = self._catalog.active()
        return fetch_rows(self._client, active.collection, image_ids) if active else {}


def live_index_resource(settings: MilvusSettings) -> Iterator[LiveIndexReader]:
    reader = LiveIndexReader.connect(settings)
    yield reader
    reader.close()
