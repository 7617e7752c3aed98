"""Session fixtures that start real servers (on free ports, in their own run folder) on demand."""

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.localstack import Stack, StackSettings
from shared.localstack.stack import ORDER

ROOT = Path(__file__).resolve().parents[1]
INFRA = ["redis", "s3", "milvus"]
VISIBILITY_TIMEOUT_S = 15
IMAGE_HOST = "127.0.0.2"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The offline model the project trained (shared/models/tiny-clip)."""
    return ROOT / "shared" / "models" / "tiny-clip"


@pytest.fixture(scope="session")
def test_stack(model_dir: Path) -> Iterator[Stack]:
    """A stack of its own (ports, data, logs under .run/test-stack), started part by part."""
    run_dir = ROOT / ".run" / "test-stack"
    shutil.rmtree(run_dir, ignore_errors=True)
    names = ["nginx", "ingestapi", "searchapi", "cdnapi", "redis", "s3", "milvus"]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    worker_metrics = free_ports(1)[0]
    settings = StackSettings(run_dir=run_dir, ports=ports)  # type: ignore[arg-type]
    model = str(model_dir)
    stack = Stack(
        settings,
        extra_env={
            "INGESTWORKER__EMBEDDING__MODEL": model,
            "SEARCHAPI__EMBEDDING__MODEL": model,
            # a whole worker killed in a fault test: its tasks come back after this long
            "INGESTWORKER__REDIS__VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
            "INGESTWORKER__METRICS__PORT": str(worker_metrics),
            # URL ingest tests serve images from this loopback address; all others stay refused
            "INGESTAPI__FETCH__ALLOW_NETWORKS": f'["{IMAGE_HOST}/32"]',
            # every test request comes from one address: the suite is not a client to limit
            "INGESTAPI__RATE_LIMIT__ENABLED": "false",
            "SEARCHAPI__RATE_LIMIT__ENABLED": "false",
            "INGESTWORKER__FETCH__ALLOW_NETWORKS": f'["{IMAGE_HOST}/32"]',
        },
    )
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="session")
def infra(test_stack: Stack) -> Stack:
    """Redis, the S3 server and Milvus."""
    test_stack.up(INFRA)
    return test_stack


@pytest.fixture(scope="session")
def full_stack(test_stack: Stack) -> Stack:
    """Everything `make up` starts, nginx in front."""
    test_stack.up(ORDER)
    return test_stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts[0] in ("integration", "e2e"):
            item.add_marker(getattr(pytest.mark, parts[0]))
