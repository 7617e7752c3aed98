"""Object storage adapter over the minio SDK (MinIO, or any S3-compatible server)."""

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import quote, unquote

import urllib3
from minio import Minio
from minio.commonconfig import REPLACE, CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from shared.config import StorageSettings
from shared.errors import AppError, NotFound, PayloadTooLarge, Unavailable, Unprocessable
from shared.storage.protocol import ObjectInfo, StoredObject

CHUNK = 256 * 1024
_META_PREFIX = "x-amz-meta-"
_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound"}
# a write refused for one of these is about our set-up, not the file: an outage until fixed
_SETUP_ERRORS = {
    "AccessDenied",
    "AccountProblem",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "InvalidBucketName",
    "RequestTimeTooSkewed",
    "SignatureDoesNotMatch",
}
_NOT_THE_FILES = {401, 403, 408, 429}
_TOO_LARGE = {"EntityTooLarge", "MetadataTooLarge", "KeyTooLongError"}


class MinioObjectStore:
    def __init__(self, client: Minio, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    @classmethod
    def from_settings(cls, settings: StorageSettings) -> "MinioObjectStore":
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3.0, read=30.0),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[502, 503, 504]),
            maxsize=32,
        )
        client = Minio(
            settings.endpoint,
            access_key=settings.access_key.get_secret_value(),
            secret_key=settings.secret_key.get_secret_value(),
            secure=settings.secure,
            region=settings.region,
            http_client=http,
        )
        return cls(client, settings.bucket)

    def ensure_bucket(self) -> None:
        with _unavailable_on_error():
            if not self._client.bucket_exists(self._bucket):
                self._client.make_bucket(self._bucket)

    def ping(self) -> None:
        with _unavailable_on_error():
            self._client.bucket_exists(self._bucket)

    def put(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        # S3 user metadata travels in HTTP headers: percent-encode to keep any filename intact
        encoded = {k: quote(v, safe="") for k, v in (metadata or {}).items()}
        with _unavailable_on_error(refusal_is_the_files=True):
            self._client.put_object(
                self._bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata=encoded,  # type: ignore[arg-type]
            )

    def exists(self, key: str) -> bool:
        try:
            with _unavailable_on_error():
                self._client.stat_object(self._bucket, key)
        except NotFound:
            return False
        return True

    def delete(self, keys: Sequence[str]) -> None:
        with _unavailable_on_error():
            errors = list(
                self._client.remove_objects(self._bucket, (DeleteObject(k) for k in keys))
            )
        refused = [e for e in errors if e.code not in _MISSING]
        if refused:
            raise Unavailable(f"object storage refused a delete: {refused[0].code}")

    def set_metadata(self, key: str, metadata: dict[str, str]) -> None:
        info = self.stat(key)
        merged = {**info.metadata, **metadata}
        encoded = {k: quote(v, safe="") for k, v in merged.items()}
        # a metadata replace resets the content type unless it is sent again
        encoded["Content-Type"] = info.content_type
        with _unavailable_on_error():
            self._client.copy_object(
                self._bucket,
                key,
                CopySource(self._bucket, key),
                metadata=encoded,  # type: ignore[arg-type]
                metadata_directive=REPLACE,
            )

    def list_keys(self, prefix: str) -> Iterator[str]:
        with _unavailable_on_error():
            for obj in self._client.list_objects(self._bucket, prefix=prefix, recursive=True):
                if obj.object_name:
                    yield obj.object_name

    def stat(self, key: str) -> ObjectInfo:
        with _unavailable_on_error():
            stat = self._client.stat_object(self._bucket, key)
        metadata = {
            name[len(_META_PREFIX) :].lower(): unquote(value)
            for name, value in (stat.metadata or {}).items()
            if name.lower().startswith(_META_PREFIX)
        }
        return ObjectInfo(
            key, int(stat.size or 0), stat.content_type or "application/octet-stream", metadata
        )

    def open(self, key: str, offset: int = 0, length: int | None = None) -> StoredObject:
        with _unavailable_on_error():
            response = self._client.get_object(self._bucket, key, offset=offset, length=length or 0)
        size = int(response.headers.get("Content-Length", "0"))
        content_type = response.headers.get("Content-Type") or "application/octet-stream"

        def close() -> None:
            response.close()
            response.release_conn()

        metadata = {
            name[len(_META_PREFIX) :].lower(): unquote(value)
            for name, value in response.headers.items()
            if name.lower().startswith(_META_PREFIX)
        }
        chunks: Iterator[bytes] = response.stream(CHUNK)
        return StoredObject(key, size, content_type, chunks, close, metadata)


@contextmanager
def _unavailable_on_error(refusal_is_the_files: bool = False) -> Iterator[None]:
    """Map 'missing' to NotFound and every transport failure to Unavailable. On a write, a
    4xx that is not about credentials or the bucket is that one file's problem (too large,
    a key or header the server will not take): PayloadTooLarge or Unprocessable."""
    try:
        yield
    except S3Error as exc:
        raise classify(exc, refusal_is_the_files) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise Unavailable("object storage unreachable") from exc


def classify(exc: S3Error, refusal_is_the_files: bool = False) -> AppError:
    if exc.code in _MISSING:
        return NotFound("object not found")
    status = getattr(exc.response, "status", 500)
    client_error = 400 <= status < 500 and status not in _NOT_THE_FILES
    if refusal_is_the_files and client_error and exc.code not in _SETUP_ERRORS:
        refused = PayloadTooLarge if exc.code in _TOO_LARGE else Unprocessable
        return refused(f"object storage refused this file: {exc.code}")
    return Unavailable(f"object storage error: {exc.code}")
