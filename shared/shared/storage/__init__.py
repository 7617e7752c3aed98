from shared.storage.minio_store import MinioObjectStore
from shared.storage.protocol import ObjectStore, StoredObject

__all__ = ["MinioObjectStore", "ObjectStore", "StoredObject"]
