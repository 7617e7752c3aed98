"""The vector index: the port (protocol) and its Milvus adapters."""

from shared.vectors.catalog import ActiveIndex, IndexCatalog
from shared.vectors.live import LiveIndex, live_index_resource
from shared.vectors.milvus_browse import BadCursor, BrowseCursor, BrowsePage
from shared.vectors.milvus_client import open_client
from shared.vectors.milvus_filters import filter_expression
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
    "BadCursor",
    "BrowseCursor",
    "BrowsePage",
    "ImageFilter",
    "ImageRecord",
    "IndexCatalog",
    "IndexLookup",
    "IndexSwitched",
    "LiveIndex",
    "MilvusVectorIndex",
    "SearchHit",
    "VectorIndex",
    "collection_name",
    "filter_expression",
    "live_index_resource",
    "live_model_problem",
    "open_client",
    "vector_index_resource",
]
