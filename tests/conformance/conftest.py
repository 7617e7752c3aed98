"""The vector adapter's conformance lanes: milvus-lite (the local stack's, always) and a real
Milvus standalone server (`make test-milvus`: --milvus-lanes=lite,server)."""

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from imagesearch_dev.localstack import Stack
from shared.config import MilvusSettings
from tests.support.milvus_server import MilvusServer
from tests.support.paths import ROOT

LANES = ("lite", "server")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--milvus-lanes",
        default="lite",
        help="comma-separated: lite (the local stack's milvus-lite), server (Milvus standalone)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "milvus" in metafunc.fixturenames:
        lanes = [lane for lane in metafunc.config.getoption("--milvus-lanes").split(",") if lane]
        unknown = set(lanes) - set(LANES)
        if unknown:
            raise pytest.UsageError(f"unknown Milvus lanes {sorted(unknown)}; known: {LANES}")
        metafunc.parametrize("milvus", lanes, indirect=True, scope="session")


@dataclass(frozen=True)
class MilvusLane:
    name: str
    uri: str
    version: str
    # what the lane's server implements (the adapter must work either way)
    has_aliases: bool
    has_hnsw: bool
    counts_varchar_bytes: bool
    # BM25, analyzers and sparse vectors: Milvus 2.5 and newer (milvus-lite 2.5 has them)
    has_bm25: bool

    def settings(self, **overrides: object) -> MilvusSettings:
        values: dict[str, object] = {
            "uri": self.uri,
            "collection_prefix": f"cf_{uuid.uuid4().hex[:12]}",
            **overrides,
        }
        return MilvusSettings(**values)  # type: ignore[arg-type]


_start_failure: list[BaseException] = []


@pytest.fixture(scope="session")
def milvus_server() -> Iterator[tuple[MilvusServer, str, float]]:
    if _start_failure:  # pytest retries a failed session fixture for every test: once is enough
        raise RuntimeError("the Milvus server did not start (see the first error)")
    started = time.monotonic()
    try:
        server = MilvusServer(ROOT / ".run" / "milvus-server")
    except BaseException as exc:
        _start_failure.append(exc)
        raise
    try:
        try:
            version = server.wait_ready()
        except BaseException as exc:
            _start_failure.append(exc)
            raise
        yield server, version, time.monotonic() - started
    finally:
        server.stop()


@pytest.fixture(scope="session")
def milvus(request: pytest.FixtureRequest) -> MilvusLane:
    if request.param == "lite":
        stack: Stack = request.getfixturevalue("test_stack")
        stack.up(["milvus"])
        uri = f"http://{stack.settings.host}:{stack.settings.ports.milvus}"
        return MilvusLane("lite", uri, "milvus-lite", False, False, False, True)
    server, version, took_s = request.getfixturevalue("milvus_server")
    print(f"\nMilvus server {version} answered {took_s:.1f} s after start")
    has_bm25 = tuple(int(p) for p in version.lstrip("v").split(".")[:2]) >= (2, 5)
    return MilvusLane("server", server.uri, version, True, True, True, has_bm25)
