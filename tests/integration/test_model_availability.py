"""A model that cannot be had stops a service within seconds, with one line saying what to set."""

import os
import subprocess
import sys
import time

import pytest

from tests.support.paths import ROOT


@pytest.mark.parametrize(
    ("argv", "env_key"),
    [
        (
            [sys.executable, "-m", "uvicorn", "searchapi.main:create_app", "--factory",
             "--port", "0"],
            "SEARCHAPI__EMBEDDING__MODEL",
        ),
        (
            [sys.executable, "-m", "celery", "-A", "ingestworker.celery_app", "worker",
             "--pool", "solo"],
            "INGESTWORKER__EMBEDDING__MODEL",
        ),
    ],
)  # fmt: skip
def test_unavailable_model_fails_fast_with_one_line(argv: list[str], env_key: str) -> None:
    env = {
        **os.environ,
        "IMAGESEARCH_CONF_DIR": str(ROOT / "conf"),
        env_key: "example-org/no-such-clip-model",
        "INGESTWORKER__STORAGE__ACCESS_KEY": "k",
        "INGESTWORKER__STORAGE__SECRET_KEY": "s",
        "SEARCHAPI__STORAGE__ACCESS_KEY": "k",
        "SEARCHAPI__STORAGE__SECRET_KEY": "s",
    }
    started = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    assert proc.returncode != 0
    assert took < 10, f"took {took:.1f}s"
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "example-org/no-such-clip-model" in lines[0]
    assert env_key in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
