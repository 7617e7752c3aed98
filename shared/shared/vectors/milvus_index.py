"""Vector index adapter over pymilvus' MilvusClient (Milvus standalone/cluster or milvus-lite)."""

import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Iterator, Sequence

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient, MilvusException

from shared.batching import chunked
from shared.config import MilvusSettings
from shared.errors import ConfigMismatch, Unavailable
from shared.keywords import MAX_DOCUMENT_BYTES, document
from shared.log import get_logger
from shared.schemas import MAX_CAPTION_CHARS, MAX_TAG_CHARS, MAX_TAGS
from shared.text import cut_utf8
from shared.vectors.catalog import ActiveIndex, IndexCatalog, recorded_model
from shared.vectors.milvus_client import (
    DISPLAY_FIELDS,
    UNKNOWN_TIME,
    display_fields,
    fetch_rows,
    open_client,
    unavailable_on_error,
)
from shared.vectors.milvus_filters import filter_expression, ids_expression
from shared.vectors.protocol import ImageFilter, ImageRecord, SearchHit

# bumped when the collection's fields change: a new version is a new collection (`reindex`)
# 3: phash, dup_of, shot_of (duplicates); 4: keywords and their BM25 vector (keyword search)
SCHEMA_VERSION = 4
# Milvus counts VARCHAR lengths in UTF-8 bytes; every string is cut to these at a character
# boundary before it is written (a 4-byte character per char of our own caption/tag limits)
VARCHAR_BYTES = {
    "id": 64,
    "filename": 1024,
    "content_type": 64,
    "camera": 256,
    "caption": MAX_CAPTION_CHARS * 4,
    "source": 1024,
    "phash": 64,
    "dup_of": 64,
    "shot_of": 64,
}
TAG_BYTES = MAX_TAG_CHARS * 4
# Milvus caps a request at ~64 MB and milvus-lite slows sharply past ~8 MB: keep batches small
MAX_UPSERT_ROWS = 1000
# a Milvus server reads "Bounded" by default: a row written a moment ago may be missing from a
# read even in the process that wrote it (an edit, then its reply). Session: a client always
# sees its own writes; other processes see them within the server's time tick
CONSISTENCY = "Session"
# a range search's upper bound: an image's own vector scores 1 plus float rounding (1.0000001),
# which a bound of exactly 1.0 drops
MAX_COSINE = 1.001
# a filtered search that comes back short is redone exactly when its filter keeps at most this
# many rows (one query of their vectors: 4 MB at 512-d)
EXACT_SEARCH_MAX_ROWS = 2048


# how long a reader trusts its last look at the catalog before looking again
ACTIVE_CHECK_S = 2.0
# the keyword side: the words of an image (shared.keywords.document) analysed by whitespace,
# their BM25 vector computed by the server (Milvus 2.5+; an older server has neither field)
KEYWORDS_FIELD = "keywords"
SPARSE_FIELD = "keywords_bm25"
KEYWORD_ANALYZER = {"tokenizer": "whitespace"}
# milvus-lite's BM25 over a collection without documents (new, or emptied by deletes) divides
# by an average length of zero and refuses the NaN: no documents, nothing found
NO_DOCUMENTS_ERROR = "NaN or Inf value"

log = get_logger(__name__)


def collection_name(prefix: str, model: str) -> str:
    """One collection per embedding model and schema: a readable slug of the model id plus a
    hash of the model id and the schema version."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", model.rstrip("/").split("/")[-1]).strip("_").lower()
    digest = hashlib.sha256(f"{model}|{SCHEMA_VERSION}".encode()).hexdigest()[:8]
    return f"{prefix}__{slug[:200]}__{digest}"


class IndexSwitched(Unavailable):
    """A reindex made another model's collection live while this process was running."""


class MilvusVectorIndex:
    def __init__(
        self, client: MilvusClient, settings: MilvusSettings, model: str, dim: int
    ) -> None:
        self._client = client
        self._settings = settings
        self._model = model
        self._dim = dim
        self._collection = collection_name(settings.collection_prefix, model)
        self._catalog = IndexCatalog(client, settings.collection_prefix)
        self._checked_at = 0.0
        self._attached = False
        self._has_keywords = False

    @classmethod
    def connect(cls, settings: MilvusSettings, model: str, dim: int) -> "MilvusVectorIndex":
        with unavailable_on_error():
            client = open_client(settings)
        return cls(client, settings, model, dim)

    @property
    def collection(self) -> str:
        return self._collection

    def close(self) -> None:
        self._client.close()

    def ping(self) -> None:
        with unavailable_on_error():
            self._client.has_collection(self._catalog.name)

    @property
    def has_keywords(self) -> bool:
        """Whether the collection has the keyword side (a server without BM25 made it
        without): known once ensure_collection or attach ran."""
        return self._has_keywords

    def ensure_collection(self) -> None:
        """Create (or check and load) this model's collection; the live pointer is untouched."""
        with unavailable_on_error():
            if self._client.has_collection(self._collection):
                self._check_model()
            else:
                self._create()
            self._client.load_collection(self._collection)
            self._catalog.ensure()
            fields = self._client.describe_collection(self._collection)["fields"]
            self._has_keywords = any(f["name"] == SPARSE_FIELD for f in fields)

    def attach(self) -> None:
        """For a service: use this model's collection, which must be the live one.

        The first service on an empty Milvus makes its collection live. A service whose model
        differs from the live collection's refuses to start: vectors of two models never mix.
        """
        self.ensure_collection()
        with unavailable_on_error():
            active = self._catalog.active()
            if active is None:
                self._catalog.activate(self._collection, self._model, self._dim)
            elif active.collection != self._collection:
                raise ConfigMismatch(
                    _mismatch(self._settings.collection_prefix, active, self._model)
                    if active.model != self._model
                    else _old_schema(active)
                )
        self._checked_at = time.monotonic()
        self._attached = True

    def activate(self) -> None:
        """Make this collection the live one (the last step of a reindex)."""
        with unavailable_on_error():
            self._catalog.activate(self._collection, self._model, self._dim)

    def active(self) -> ActiveIndex | None:
        with unavailable_on_error():
            return self._catalog.active()

    def _still_live(self) -> None:
        """An attached service stops reading and writing once a reindex switched models."""
        if not self._attached or time.monotonic() - self._checked_at < ACTIVE_CHECK_S:
            return
        active = self.active()
        if active is not None and active.collection != self._collection:
            raise IndexSwitched(
                f"the index now holds vectors of model {active.model!r} (switched by a "
                f"reindex); restart this service with embedding.model={active.model}"
            )
        self._checked_at = time.monotonic()

    def _create(self) -> None:
        try:
            self._create_with(keywords=True)
        except MilvusException as exc:
            # a server before 2.5 has no BM25 function, analyzer or sparse vectors: the
            # collection is made without its keyword side and search works by meaning only
            log.warning("keyword search unavailable on this Milvus", reason=str(exc)[:300])
            if self._client.has_collection(self._collection):
                self._client.drop_collection(self._collection)
            self._create_with(keywords=False)

    def _create_with(self, keywords: bool) -> None:
        self._has_keywords = keywords
        schema = MilvusClient.create_schema(
            auto_id=False,
            enable_dynamic_field=True,
            description=json.dumps({"model": self._model, "dim": self._dim}),
        )
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=VARCHAR_BYTES["id"])
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self._dim)
        schema.add_field("width", DataType.INT32)
        schema.add_field("height", DataType.INT32)
        schema.add_field("bytes", DataType.INT64)
        schema.add_field("created_at", DataType.INT64)
        schema.add_field("taken_at", DataType.INT64)
        for name in (
            "filename", "content_type", "camera", "caption", "source", "phash", "dup_of", "shot_of"
        ):  # fmt: skip
            schema.add_field(name, DataType.VARCHAR, max_length=VARCHAR_BYTES[name])
        schema.add_field(
            "tags",
            DataType.ARRAY,
            element_type=DataType.VARCHAR,
            max_capacity=MAX_TAGS,
            max_length=TAG_BYTES,
        )
        index = self._client.prepare_index_params()
        index.add_index(
            "vector",
            index_type=self._settings.index_type,
            metric_type="COSINE",
            params=dict(self._settings.index_params),
        )
        if keywords:
            schema.add_field(
                KEYWORDS_FIELD,
                DataType.VARCHAR,
                max_length=MAX_DOCUMENT_BYTES,
                enable_analyzer=True,
                analyzer_params=KEYWORD_ANALYZER,
            )
            schema.add_field(SPARSE_FIELD, DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                Function(
                    name="keywords_bm25",
                    function_type=FunctionType.BM25,
                    input_field_names=[KEYWORDS_FIELD],
                    output_field_names=[SPARSE_FIELD],
                )
            )
            index.add_index(SPARSE_FIELD, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self._client.create_collection(
            self._collection,
            schema=schema,
            index_params=index,
            consistency_level=CONSISTENCY,
        )

    def _check_model(self) -> None:
        recorded = recorded_model(self._client, self._collection)
        if recorded.get("model") != self._model or recorded.get("dim") != self._dim:
            raise ConfigMismatch(
                f"collection {self._collection!r} holds vectors of model "
                f"{recorded.get('model')!r} (dim {recorded.get('dim')}), not {self._model!r} "
                f"(dim {self._dim}); reindex into a new collection or set milvus.collection_prefix"
            )

    def upsert(self, records: Sequence[ImageRecord]) -> None:
        self._still_live()
        rows = [_row(r, keywords=self._has_keywords) for r in records]
        with unavailable_on_error():
            for batch in chunked(rows, MAX_UPSERT_ROWS):
                self._client.upsert(self._collection, batch)

    def delete(self, image_ids: Sequence[str]) -> None:
        if not image_ids:
            return
        with unavailable_on_error():
            self._client.delete(self._collection, filter=ids_expression(image_ids))

    def search(
        self,
        vector: Sequence[float],
        limit: int,
        where: ImageFilter | None = None,
        min_score: float | None = None,
    ) -> list[SearchHit]:
        """Nearest by cosine, best first; ``where`` filters inside Milvus; ``min_score`` is a
        range search (only scores above it)."""
        self._still_live()
        params: dict[str, object] = dict(self._settings.search_params)
        if min_score is not None:
            params.update(radius=min_score, range_filter=MAX_COSINE)
        expression = filter_expression(where)
        with unavailable_on_error():
            result = self._client.search(
                self._collection,
                data=[list(vector)],
                anns_field="vector",
                limit=limit,
                filter=expression,
                output_fields=DISPLAY_FIELDS,
                search_params={"metric_type": "COSINE", "params": params},
            )
        hits = [
            SearchHit(
                id=str(hit["id"]),
                score=float(hit["distance"]),
                fields=display_fields(hit["entity"]),
            )
            for hit in result[0]
        ]
        if expression and len(hits) < limit:
            # a graph or cluster index walks its neighbours and drops what the filter refuses:
            # when a filter keeps few rows it can come back short, or empty (HNSW on a real
            # Milvus, IVF on milvus-lite). Few rows are scored exactly instead.
            exact = self._exact_search(vector, limit, expression, min_score)
            if exact is not None:
                return exact
        return hits

    def keyword_search(
        self,
        tokens: Sequence[str],
        limit: int,
        where: ImageFilter | None = None,
        with_vectors: bool = False,
    ) -> list[SearchHit]:
        """Best BM25 matches of these index words (``caption:red``; a repeat weighs more),
        best first, each with its indexed words (``keywords``) besides its display fields, and
        its vector if asked (what it scores by meaning, without a second request); empty when
        the collection has no keyword side."""
        if not self._has_keywords or not tokens:
            return []
        self._still_live()
        with unavailable_on_error():
            try:
                result = self._client.search(
                    self._collection,
                    data=[" ".join(tokens)],
                    anns_field=SPARSE_FIELD,
                    limit=limit,
                    filter=filter_expression(where),
                    output_fields=[
                        *DISPLAY_FIELDS,
                        KEYWORDS_FIELD,
                        *(["vector"] if with_vectors else []),
                    ],
                    search_params={"metric_type": "BM25"},
                )
            except MilvusException as exc:
                if NO_DOCUMENTS_ERROR in str(exc.message):
                    return []
                raise
        return [
            SearchHit(
                str(hit["id"]),
                float(hit["distance"]),
                {
                    **display_fields(hit["entity"]),
                    KEYWORDS_FIELD: str(hit["entity"].get(KEYWORDS_FIELD) or ""),
                },
                hit["entity"].get("vector") if with_vectors else None,
            )
            for hit in result[0]
        ]

    def _exact_search(
        self, vector: Sequence[float], limit: int, expression: str, min_score: float | None
    ) -> list[SearchHit] | None:
        """Every row the filter keeps, scored by cosine here; None when it keeps too many."""
        with unavailable_on_error():
            counted = self._client.query(
                self._collection, filter=expression, output_fields=["count(*)"]
            )
            if int(counted[0]["count(*)"]) > EXACT_SEARCH_MAX_ROWS:
                return None
            rows = self._client.query(
                self._collection,
                filter=expression,
                output_fields=["vector", *DISPLAY_FIELDS],
                limit=EXACT_SEARCH_MAX_ROWS,
            )
        if not rows:
            return []
        rows = [dict(row) for row in rows]  # pymilvus' lazy rows, read once
        query = np.asarray(vector, dtype=np.float32)
        stored = np.asarray([row["vector"] for row in rows], dtype=np.float32)
        norms = np.linalg.norm(stored, axis=1) * (np.linalg.norm(query) or 1.0)
        scores = stored @ query / np.where(norms == 0, 1.0, norms)
        order = np.argsort(-scores, kind="stable")
        hits = []
        for i in order:
            score = float(scores[i])
            if min_score is not None and score <= min_score:
                break
            hits.append(SearchHit(str(rows[i]["id"]), score, display_fields(rows[i])))
            if len(hits) == limit:
                break
        return hits

    def nearest(
        self, vectors: Sequence[Sequence[float]], limit: int, min_score: float
    ) -> list[list[SearchHit]]:
        """For each vector, the rows scoring above ``min_score``, best first (one request)."""
        if not vectors:
            return []
        self._still_live()
        params = {**self._settings.search_params, "radius": min_score, "range_filter": MAX_COSINE}
        with unavailable_on_error():
            result = self._client.search(
                self._collection,
                data=[[float(x) for x in v] for v in vectors],
                anns_field="vector",
                limit=limit,
                output_fields=DISPLAY_FIELDS,
                search_params={"metric_type": "COSINE", "params": params},
            )
        return [
            [
                SearchHit(str(h["id"]), float(h["distance"]), display_fields(h["entity"]))
                for h in hits
            ]
            for hits in result
        ]

    def vector_of(self, image_id: str) -> list[float] | None:
        return self.vectors_of([image_id]).get(image_id)

    def vectors_of(self, image_ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors by id; ids not in the index are absent."""
        if not image_ids:
            return {}
        with unavailable_on_error():
            rows = self._client.get(self._collection, ids=list(image_ids), output_fields=["vector"])
        return {str(row["id"]): [float(x) for x in row["vector"]] for row in rows}

    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        return fetch_rows(self._client, self._collection, image_ids)

    def rows(
        self, where: ImageFilter | None, fields: Sequence[str], limit: int
    ) -> list[dict[str, object]]:
        """Up to ``limit`` rows ``where`` keeps, in no order, with these fields."""
        with unavailable_on_error():
            rows = self._client.query(
                self._collection,
                filter=filter_expression(where),
                output_fields=list(fields),
                limit=limit,
            )
        return [dict(row) for row in rows]

    def count(self, image_ids: Sequence[str] | None = None) -> int:
        """Rows in the collection, or rows with one of these ids (each id is one row at most:
        the primary key; counting them checks exactly that)."""
        expr = "" if image_ids is None else ids_expression(image_ids)
        with unavailable_on_error():
            rows = self._client.query(self._collection, filter=expr, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])


def vector_index_resource(
    settings: MilvusSettings, model: str, dim: int
) -> Iterator[MilvusVectorIndex]:
    """For a dependency-injector Resource: connected and attached once, closed on shutdown."""
    index = MilvusVectorIndex.connect(settings, model, dim)
    index.attach()
    yield index
    index.close()


def _old_schema(active: ActiveIndex) -> str:
    return (
        f"the live collection {active.collection!r} was built by an older version (its fields "
        f"differ): run `uv run reindex` (ingestworker's config) to rebuild it, then restart"
    )


def _mismatch(prefix: str, active: ActiveIndex, model: str) -> str:
    return (
        f"index {prefix!r} holds vectors of model {active.model!r} ({active.dim}-d), but "
        f"embedding.model is {model!r}: set embedding.model back, or build and switch to the "
        f"new model's collection with `uv run reindex` (ingestworker's config)"
    )


def _row(record: ImageRecord, keywords: bool) -> dict[str, object]:
    row = dataclasses.asdict(record)
    extra = row.pop("extra")
    row["vector"] = [float(x) for x in record.vector]
    for name, limit in VARCHAR_BYTES.items():
        row[name] = cut_utf8(str(row[name]), limit)
    row["tags"] = [cut_utf8(str(tag), TAG_BYTES) for tag in record.tags][:MAX_TAGS]
    row["taken_at"] = UNKNOWN_TIME if record.taken_at is None else record.taken_at
    if keywords:
        row[KEYWORDS_FIELD] = document(row)
    return {**extra, **row}


def stored_fields(record: ImageRecord) -> dict[str, object]:
    """A record's fields as the index stores them (what a read of its row returns)."""
    return _row(record, keywords=False)


def with_keywords(row: dict[str, object]) -> dict[str, object]:
    """A stored row (read whole) made ready to write back: its keywords made again from its
    fields, and the BM25 vector left to the server."""
    row.pop(SPARSE_FIELD, None)
    if KEYWORDS_FIELD in row:
        row[KEYWORDS_FIELD] = document(row)
    return row


def live_model_problem(settings: MilvusSettings, model: str) -> str | None:
    """Why a service embedding with ``model`` must not start against this Milvus: the live
    index is another model's, or an older layout; None when it may. Raises Unavailable."""
    with unavailable_on_error():
        client = open_client(settings)
        try:
            catalog = IndexCatalog(client, settings.collection_prefix)
            active = catalog.active() if client.has_collection(catalog.name) else None
        finally:
            client.close()
    if active is not None and active.model != model:
        return _mismatch(settings.collection_prefix, active, model)
    if active is not None and active.collection != collection_name(
        settings.collection_prefix, model
    ):
        return _old_schema(active)
    return None
