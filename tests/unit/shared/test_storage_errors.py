"""How the S3 adapter reads a storage error: missing, this file's problem, or an outage."""

import pytest
from minio.error import S3Error

from shared.storage.minio_store import classify


class Response:
    def __init__(self, status: int) -> None:
        self.status = status


def s3_error(code: str, status: int) -> S3Error:
    return S3Error(Response(status), code, "message", "/images/x", "req", "host")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status", "on_write", "expected"),
    [
        ("NoSuchKey", 404, False, 404),
        ("EntityTooLarge", 400, True, 413),
        ("MetadataTooLarge", 400, True, 413),
        ("InvalidArgument", 400, True, 422),
        ("InvalidArgument", 400, False, 503),  # a read's 4xx is not blamed on a file
        ("AccessDenied", 403, True, 503),  # credentials: the set-up, not the file
        ("SignatureDoesNotMatch", 403, True, 503),
        ("SlowDown", 503, True, 503),
        ("InternalError", 500, True, 503),
    ],
)
def test_a_storage_error_is_classified(
    code: str, status: int, on_write: bool, expected: int
) -> None:
    error = classify(s3_error(code, status), refusal_is_the_files=on_write)
    assert error.status_code == expected
    assert code in error.detail or expected == 404
