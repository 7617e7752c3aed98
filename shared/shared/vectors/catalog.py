"""Which collection is live for a prefix.

Search and ingest follow this pointer; a reindex fills a new collection and then moves the
pointer, so readers switch at once and never see a half-built index.

On a Milvus server the pointer is a real alias (``<prefix>_live``), moved in one
``alter_alias``; the model and dimension come from the target collection's description.
milvus-lite has no aliases (its gRPC answers UNIMPLEMENTED): there the pointer is one row of a
small catalog collection, moved in one upsert. The catalog row is written on both, so an
install that predates the alias (a row, no alias yet) keeps its live collection.
"""

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import grpc
from pymilvus import DataType, MilvusClient, MilvusException

ACTIVE = "active"
# Milvus' code for "alias not found"
ALIAS_NOT_FOUND = 1600


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
        self.alias = f"{prefix}_live"
        self._has_aliases: bool | None = None

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
        # a switch is seen by every reader at its next look
        self._client.create_collection(
            self.name, schema=schema, index_params=index, consistency_level="Strong"
        )
        self._client.load_collection(self.name)

    def has_aliases(self) -> bool:
        """Whether the server implements aliases (asked once)."""
        if self._has_aliases is None:
            try:
                with _expected_failure():
                    self._client.list_aliases(self.name)
                self._has_aliases = True
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNIMPLEMENTED:  # type: ignore[attr-defined]
                    raise
                self._has_aliases = False
        return self._has_aliases

    def active(self) -> ActiveIndex | None:
        row = self._row()
        if not self.has_aliases():
            return row
        target = self._alias_target()
        if target is None:
            return row  # written before aliases were used
        if row is not None and row.collection == target:
            return row
        recorded = recorded_model(self._client, target)
        return ActiveIndex(
            target,
            str(recorded.get("model", "")),
            int(str(recorded.get("dim", 0))),
            row.switched_at if row else 0,
        )

    def activate(self, collection: str, model: str, dim: int) -> None:
        if self.has_aliases():
            if self._alias_target() is None:
                self._client.create_alias(collection, self.alias)
            else:
                self._client.alter_alias(collection, self.alias)
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

    def _row(self) -> ActiveIndex | None:
        rows = self._client.get(
            self.name, ids=[ACTIVE], output_fields=["collection", "model", "dim", "switched_at"]
        )
        if not rows:
            return None
        row = rows[0]
        return ActiveIndex(
            str(row["collection"]), str(row["model"]), int(row["dim"]), int(row["switched_at"])
        )

    def _alias_target(self) -> str | None:
        try:
            with _expected_failure():
                return str(self._client.describe_alias(self.alias)["collection_name"])
        except MilvusException as exc:
            if exc.code == ALIAS_NOT_FOUND:
                return None
            raise


def recorded_model(client: MilvusClient, collection: str) -> dict[str, object]:
    """The model and dimension a collection was created for (its description, as JSON)."""
    description = client.describe_collection(collection).get("description", "")
    try:
        recorded = json.loads(description)
    except ValueError:
        return {}
    return recorded if isinstance(recorded, dict) else {}


@contextmanager
def _expected_failure() -> Iterator[None]:
    """pymilvus logs every failed call with its traceback; these failures are answers."""
    pymilvus_log = logging.getLogger("pymilvus")
    level = pymilvus_log.level
    pymilvus_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        pymilvus_log.setLevel(level)
