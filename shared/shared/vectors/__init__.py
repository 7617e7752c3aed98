from shared.vectors.filters import ImageFilter
from shared.vectors.live import LiveIndexReader, live_index_resource
from shared.vectors.milvus_index import (
    IndexSwitched,
    MilvusVectorIndex,
    collection_name,
    require_live_model,
    vector_index_resource,
)
from shared.vectors.protocol import ImageRecord, IndexLookup, SearchHit, VectorIndex

__all__ = [
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
    "require_live_model",
    "vector_index_resource",
]
