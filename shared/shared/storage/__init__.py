from shared.storage.minio_store import MinioObjectStore
from shared.storage.protocol import ObjectInfo, ObjectStore, StoredObject

__all__ = ["MinioObjectStore", "ObjectInfo", "ObjectStore", "StoredObject"]
