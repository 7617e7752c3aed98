"""Settings that point adapters at the test stack's servers, isolated per test by name."""

import uuid

from shared.config import MilvusSettings, RedisSettings, StorageSettings
from shared.localstack import Stack


def storage_settings(stack: Stack, bucket: str | None = None) -> StorageSettings:
    s = stack.settings
    return StorageSettings(
        endpoint=f"{s.host}:{s.ports.s3}",
        access_key=s.s3_access_key,  # type: ignore[arg-type]
        secret_key=s.s3_secret_key,  # type: ignore[arg-type]
        bucket=bucket or f"it-{uuid.uuid4().hex[:12]}",
    )


def milvus_settings(stack: Stack, prefix: str | None = None) -> MilvusSettings:
    s = stack.settings
    return MilvusSettings(
        uri=f"http://{s.host}:{s.ports.milvus}",
        collection_prefix=prefix or f"it_{uuid.uuid4().hex[:12]}",
    )


def redis_settings(stack: Stack) -> RedisSettings:
    return RedisSettings(host=stack.settings.host, port=stack.settings.ports.redis)
