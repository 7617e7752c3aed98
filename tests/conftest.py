"""Session fixtures that start real servers (on free ports, in their own run folder) on demand."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from imagesearch_dev.localstack import ORDER, Stack
from tests.support.paths import MODEL_DIR, ROOT
from tests.support.stack import INFRA, build_keyed_stack, build_test_stack


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The offline model the project trained (shared/models/tiny-clip)."""
    return MODEL_DIR


@pytest.fixture(scope="session")
def test_stack() -> Iterator[Stack]:
    """A stack of its own, started part by part as tests ask for the parts."""
    stack = build_test_stack()
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
    """Everything `make up` starts, nginx in front, but the enrichment worker (`enriched`):
    on milvus-lite a row enrichment rewrites is missed by a read in that instant (the
    conformance test test_an_image_rewritten_in_place_stays_visible_to_every_read_meanwhile),
    which tests that count what they just uploaded would take for a loss."""
    test_stack.up([name for name in ORDER if name != "enricher"])
    return test_stack


@pytest.fixture(scope="module")
def enriched(full_stack: Stack) -> Iterator[Stack]:
    """The full stack with the enrichment worker, for one module's tests."""
    full_stack.up(["enricher"])
    try:
        yield full_stack
    finally:
        full_stack.table.stop("enricher")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts[0] in ("integration", "e2e"):
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(scope="session")
def keyed_stack(full_stack: Stack) -> Iterator[Stack]:
    """The APIs and nginx again with API keys and protected reads, on the same servers."""
    stack = build_keyed_stack(full_stack)
    try:
        stack.up(["ingestapi", "searchapi", "cdnapi", "nginx"])
        yield stack
    finally:
        stack.down()
