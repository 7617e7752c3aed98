"""Domain errors: each carries the HTTP status and a stable error code the APIs render."""

MAX_REASON_CHARS = 300


class AppError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def body_extra(self) -> dict[str, object]:
        """Fields the error body carries besides its code and detail."""
        return {}


class BadRequest(AppError):
    """The request cannot be used as sent (no files, a blank query, a malformed body)."""

    status_code = 400
    code = "bad_request"


class InvalidRequest(AppError):
    """A parameter or body field is invalid; detail lists each with its location."""

    status_code = 422
    code = "invalid_request"


class Unauthorized(AppError):
    """No API key, or not a valid one."""

    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    """Not allowed from where it came (a write from another web site)."""

    status_code = 403
    code = "forbidden"


class TooManyRequests(AppError):
    """Over a rate limit: come back after ``retry_after_s``."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class NotFound(AppError):
    """No such image or job (unknown, expired or deleted)."""

    status_code = 404
    code = "not_found"


class Conflict(AppError):
    """The image is not in a state that allows this (already indexed, or on its way)."""

    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    """Over a size limit: bytes, pixels, files or archive members."""

    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    """Not an image in a supported format (judged by its bytes, not its name)."""

    status_code = 415
    code = "unsupported_media_type"


class Unprocessable(AppError):
    """A supported format that does not decode (corrupt or truncated), or values out of range."""

    status_code = 422
    code = "unprocessable"


class BadQuery(Unprocessable):
    """A search query that does not read (the query language); ``position``: where, 0-based."""

    code = "bad_query"

    def __init__(self, detail: str, position: int) -> None:
        super().__init__(detail)
        self.position = position

    def body_extra(self) -> dict[str, object]:
        return {"position": self.position}


class Unavailable(AppError):
    """A backing service (object storage, Redis, Milvus) did not answer."""

    status_code = 503
    code = "unavailable"
    retry_after_s = 5


class QueueFull(Unavailable):
    """More indexing work is waiting than ingest.max_queue: come back later."""

    code = "queue_full"
    retry_after_s = 30


class ConfigMismatch(AppError):
    """The index was built for another model than the one configured."""

    code = "config_mismatch"


def reason_of(exc: BaseException) -> str:
    """Why something failed, for a person: an AppError's detail, else the exception's type and
    message; short, and never a traceback."""
    if isinstance(exc, AppError):
        return exc.detail[:MAX_REASON_CHARS]
    return f"{type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]
