import json
import logging

import pytest

from shared.config import LogSettings
from shared.log import configure_logging, get_logger


@pytest.fixture(autouse=True)
def restore_root_logger() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_format_writes_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json", level="INFO"), "demo")
    get_logger("t").info("image_indexed", image_id="abc", took_ms=1.5)
    logging.getLogger("stdlib").warning("from the standard library")
    lines = capsys.readouterr().err.strip().splitlines()
    first, second = (json.loads(line) for line in lines[-2:])
    assert first["event"] == "image_indexed"
    assert (first["image_id"], first["service"], first["level"]) == ("abc", "demo", "info")
    assert second["event"] == "from the standard library"


def test_console_format_is_not_json(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="console", level="INFO"), "demo")
    get_logger("t").info("hello", key="value")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "hello" in line
    assert "key=value" in line
    assert not line.startswith("{")


def test_level_filters(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json", level="WARNING"), "demo")
    get_logger("t").info("quiet")
    assert "quiet" not in capsys.readouterr().err


def _fail_with_a_secret_in_scope() -> None:
    secret_key = "s3-secret-do-not-print"  # noqa: F841 - the local a traceback could show
    raise RuntimeError("storage refused the request")


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_a_logged_traceback_shows_no_local_variables(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(LogSettings(format=fmt, level="INFO"), "demo")  # type: ignore[arg-type]
    try:
        _fail_with_a_secret_in_scope()
    except RuntimeError:
        get_logger("t").exception("request_failed")
        logging.getLogger("celery").exception("from the standard library")
    err = capsys.readouterr().err
    assert "storage refused the request" in err  # the traceback is there
    assert "s3-secret-do-not-print" not in err  # its locals are not
