"""structlog, set up once per process: console lines in dev, one JSON object a line in prod."""

import logging
import sys

import structlog

from shared.config import LogSettings
from shared.telemetry import current_ids


def configure_logging(settings: LogSettings, service: str) -> None:
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.format == "json"
        # a plain traceback: the default (rich) one prints each frame's local variables, and
        # locals hold keys and request headers
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if settings.format == "json" else _noop,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    structlog.contextvars.bind_contextvars(service=service)
    # uvicorn's own access log duplicates the request log line below
    logging.getLogger("uvicorn.access").disabled = True
    # httpx writes every request's full URL at INFO: the cache refreshes' are signed URLs
    # (bearer credentials for up to two hours); its warnings still show
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))


def _add_trace_ids(
    logger: object, name: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """The current span's trace and span ids: a log line finds its trace, and the lines of
    one request or one indexing batch find each other."""
    ids = current_ids()
    if ids is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


def _noop(
    logger: object, name: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    return event_dict


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)  # type: ignore[no-any-return]
