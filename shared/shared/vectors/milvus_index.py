"""Vector index adapter over pymilvus' MilvusClient (Milvus standalone/cluster or milvus-lite)."""

import dataclasses
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pymilvus import DataType, MilvusClient, MilvusException

from shared.config import MilvusSettings
from shared.errors import ConfigMismatch, Unavailable
from shared.vectors.protocol import ImageRecord, SearchHit

DISPLAY_FIELDS = ["filename", "content_type", "width", "height", "bytes", "created_at"]
# Milvus caps a request at ~64 MB and milvus-lite slows sharply past ~8 MB: keep batches small
MAX_UPSERT_ROWS = 1000


def collection_name(prefix: str, model: str) -> str:
    """One collection per embedding model: the name carries a slug of the model id."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", model.rstrip("/").split("/")[-1]).strip("_").lower()
    return f"{prefix}_{slug}"[:255]


class MilvusVectorIndex:
    def __init__(
        self, client: MilvusClient, settings: MilvusSettings, model: str, dim: int
    ) -> None:
        self._client = client
        self._settings = settings
        self._model = model
        self._dim = dim
        self._collection = collection_name(settings.collection_prefix, model)

    @classmethod
    def connect(cls, settings: MilvusSettings, model: str, dim: int) -> "MilvusVectorIndex":
        token = settings.token.get_secret_value() if settings.token else ""
        with _unavailable_on_error():
            client = MilvusClient(uri=settings.uri, token=token, timeout=settings.timeout_s)
        return cls(client, settings, model, dim)

    @property
    def collection(self) -> str:
        return self._collection

    def close(self) -> None:
        self._client.close()

    def ensure_collection(self) -> None:
        with _unavailable_on_error():
            if self._client.has_collection(self._collection):
                self._check_model()
            else:
                self._create()
            self._client.load_collection(self._collection)

    def _create(self) -> None:
        schema = MilvusClient.create_schema(
            auto_id=False,
            enable_dynamic_field=True,
            description=json.dumps({"model": self._model, "dim": self._dim}),
        )
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self._dim)
        schema.add_field("filename", DataType.VARCHAR, max_length=1024)
        schema.add_field("content_type", DataType.VARCHAR, max_length=64)
        schema.add_field("width", DataType.INT32)
        schema.add_field("height", DataType.INT32)
        schema.add_field("bytes", DataType.INT64)
        schema.add_field("created_at", DataType.INT64)
        index = self._client.prepare_index_params()
        index.add_index(
            "vector",
            index_type=self._settings.index_type,
            metric_type="COSINE",
            params=dict(self._settings.index_params),
        )
        self._client.create_collection(self._collection, schema=schema, index_params=index)

    def _check_model(self) -> None:
        description = self._client.describe_collection(self._collection).get("description", "")
        try:
            recorded = json.loads(description)
        except ValueError:
            recorded = {}
        if recorded.get("model") != self._model or recorded.get("dim") != self._dim:
            raise ConfigMismatch(
                f"collection {self._collection!r} holds vectors of model "
                f"{recorded.get('model')!r} (dim {recorded.get('dim')}), not {self._model!r} "
                f"(dim {self._dim}); reindex into a new collection or set milvus.collection_prefix"
            )

    def upsert(self, records: Sequence[ImageRecord]) -> None:
        rows = [_row(r) for r in records]
        with _unavailable_on_error():
            for start in range(0, len(rows), MAX_UPSERT_ROWS):
                self._client.upsert(self._collection, rows[start : start + MAX_UPSERT_ROWS])

    def search(self, vector: Sequence[float], limit: int) -> list[SearchHit]:
        with _unavailable_on_error():
            result = self._client.search(
                self._collection,
                data=[list(vector)],
                anns_field="vector",
                limit=limit,
                output_fields=DISPLAY_FIELDS,
                search_params={
                    "metric_type": "COSINE",
                    "params": dict(self._settings.search_params),
                },
            )
        return [
            SearchHit(id=str(hit["id"]), score=float(hit["distance"]), fields=dict(hit["entity"]))
            for hit in result[0]
        ]

    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        if not image_ids:
            return {}
        with _unavailable_on_error():
            rows = self._client.get(
                self._collection, ids=list(image_ids), output_fields=DISPLAY_FIELDS
            )
        return {str(row["id"]): {k: row[k] for k in DISPLAY_FIELDS if k in row} for row in rows}

    def count(self) -> int:
        with _unavailable_on_error():
            rows = self._client.query(self._collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])


def vector_index_resource(
    settings: MilvusSettings, model: str, dim: int
) -> Iterator[MilvusVectorIndex]:
    """For a dependency-injector Resource: connected and checked once, closed on shutdown."""
    index = MilvusVectorIndex.connect(settings, model, dim)
    index.ensure_collection()
    yield index
    index.close()


def _row(record: ImageRecord) -> dict[str, object]:
    row = dataclasses.asdict(record)
    extra = row.pop("extra")
    row["vector"] = [float(x) for x in record.vector]
    return {**extra, **row}


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except MilvusException as exc:
        raise Unavailable(f"vector index error: {exc.message}") from exc
