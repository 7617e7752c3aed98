"""The vector index: the port (protocol) and its Milvus adapters."""

from shared.vectors.catalog import ActiveIndex
from shared.vectors.live import LiveIndexReader, live_index_resource
from shared.vectors.milvus_index import (
    IndexSwitched,
    MilvusVectorIndex,
    collection_name,
    live_model_problem,
    vector_index_resource,
)
from shared.vectors.protocol import ImageFilter, ImageRecord, IndexLookup, SearchHit, VectorIndex

__all__ = [
    "ActiveIndex",
    "ImageFilter",
    "ImageRecord",
    "IndexLookup",
    "IndexSwitched",
    "LiveIndexReader",
    "MilvusVectorIndex",
    "SearchHit",
    "VectorIndex",
    "collection_name",
    "live_index_resource",
    "live_model_problem",
    "vector_index_resource",
]
