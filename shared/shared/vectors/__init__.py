from shared.vectors.milvus_index import MilvusVectorIndex, collection_name, vector_index_resource
from shared.vectors.protocol import ImageRecord, SearchHit, VectorIndex

__all__ = [
    "ImageRecord",
    "MilvusVectorIndex",
    "SearchHit",
    "VectorIndex",
    "collection_name",
    "vector_index_resource",
]
