"""Which collection is live for a prefix: one row in a small Milvus collection of its own.

Search and ingest follow this pointer; a reindex fills a new collection and then moves the
pointer in one upsert, so readers switch at once and never see a half-built index. (A Milvus
alias would do the same on a Milvus server; the embedded milvus-lite server used by the local
stack does not implement aliases, and one mechanism everywhere keeps one code path tested.)
"""

import time
from dataclasses import dataclass

from pymilvus import DataType, MilvusClient

ACTIVE = "active"


@dataclass(frozen=True)
class ActiveIndex:
    collection: str
    model: str
    dim: int
    switched_at: int


class IndexCatalog:
    def __init__(self, client: MilvusClient, prefix: str) -> None:
        self._client = client
        self.name = f"{prefix}_catalog"

    def ensure(self) -> None:
        if self._client.has_collection(self.name):
            self._client.load_collection(self.name)
            return
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("collection", DataType.VARCHAR, max_length=255)
        schema.add_field("model", DataType.VARCHAR, max_length=1024)
        schema.add_field("dim", DataType.INT64)
        schema.add_field("switched_at", DataType.INT64)
        # Milvus wants a vector field in every collection; this one carries nothing
        schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
        index = self._client.prepare_index_params()
        index.add_index("unused", index_type="FLAT", metric_type="L2")
        self._client.create_collection(self.name, schema=schema, index_params=index)
        self._client.load_collection(self.name)

    def active(self) -> ActiveIndex | None:
        rows = self._client.get(
            self.name, ids=[ACTIVE], output_fields=["collection", "model", "dim", "switched_at"]
        )
        if not rows:
            return None
        row = rows[0]
        return ActiveIndex(
            str(row["collection"]), str(row["model"]), int(row["dim"]), int(row["switched_at"])
        )

    def activate(self, collection: str, model: str, dim: int) -> None:
        self._client.upsert(
            self.name,
            [
                {
                    "key": ACTIVE,
                    "collection": collection,
                    "model": model,
                    "dim": dim,
                    "switched_at": int(time.time()),
                    "unused": [0.0, 0.0],
                }
            ],
        )
