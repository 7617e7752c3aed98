"""Reindex from model A to model B on real Milvus and S3: search keeps answering from A until
the switch; then A's readers stop and a service configured for A refuses to start."""

import os
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from imagesearch_dev.localstack import Stack
from ingestworker.service.reindexing import ReindexService, ReindexStates
from shared.config import EmbeddingSettings
from shared.embedding import Embedder, load_embedder
from shared.errors import ConfigMismatch
from shared.ids import content_id, original_key
from shared.preflight import check_live_model, exit_on_failure
from shared.storage import MinioObjectStore
from shared.vectors import IndexCatalog, IndexSwitched, MilvusVectorIndex, milvus_index, open_client
from tests.support.images import image_bytes
from tests.support.paths import ROOT
from tests.support.stack import milvus_settings, storage_settings
from tests.support.worker import index_pipeline


@pytest.fixture(scope="module")
def model_a(model_dir: Path) -> Embedder:
    return load_embedder(EmbeddingSettings(model=str(model_dir), device="cpu", batch_size=4))


@pytest.fixture(scope="module")
def model_b(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    # the same weights under another id: a different model as far as the index is concerned
    copy = tmp_path_factory.mktemp("models") / "tiny-clip-b"
    shutil.copytree(model_dir, copy)
    return load_embedder(EmbeddingSettings(model=str(copy), device="cpu", batch_size=4))


def test_reindex_builds_aside_then_switches(
    infra: Stack, model_a: Embedder, model_b: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(milvus_index, "ACTIVE_CHECK_S", 0.0)
    prefix = f"rx_{uuid.uuid4().hex[:10]}"
    store = MinioObjectStore.from_settings(storage_settings(infra))
    store.ensure_bucket()
    ids = []
    for i in range(24):
        data = image_bytes((i * 10, 255 - i * 10, 90), fmt="JPEG")
        store.put(original_key(content_id(data)), data, "image/jpeg", {"filename": f"{i}.jpg"})
        ids.append(content_id(data))

    live_a = MilvusVectorIndex.connect(
        milvus_settings(infra, prefix), model_a.model_id, model_a.dim
    )
    live_a.attach()
    index_pipeline(store, live_a, model_a, ReindexStates()).run(ids)
    query = model_a.embed_texts(["a large red circle in the centre on a white background"])[0]
    assert len(live_a.search(query, 50)) == 24

    target = MilvusVectorIndex.connect(
        milvus_settings(infra, prefix), model_b.model_id, model_b.dim
    )
    target.ensure_collection()
    pipeline = index_pipeline(store, target, model_b, ReindexStates())
    service = ReindexService(store, target, pipeline, batch_size=4)
    answers: list[int] = []
    building = threading.Thread(target=lambda: answers.append(service.build().indexed))
    building.start()
    searches_during_build = 0
    while building.is_alive():
        assert len(live_a.search(query, 50)) == 24  # the old index keeps answering, in full
        searches_during_build += 1
    building.join()
    assert answers == [24]
    assert searches_during_build > 0
    assert len(live_a.search(query, 50)) == 24  # built but not live yet: still A

    report = service.build()
    assert (report.indexed, report.skipped) == (0, 24)  # resumable: nothing left to do
    service.switch(report)
    with pytest.raises(IndexSwitched, match="restart this service"):
        live_a.search(query, 50)
    assert set(target.get(ids)) == set(ids)

    # a searchapi still configured for model A now refuses to start, saying what to do
    env = {
        **os.environ,
        "IMAGESEARCH_CONF_DIR": str(ROOT / "conf"),
        "SEARCHAPI__MILVUS__URI": f"http://{infra.settings.host}:{infra.settings.ports.milvus}",
        "SEARCHAPI__MILVUS__COLLECTION_PREFIX": prefix,
        "SEARCHAPI__EMBEDDING__MODEL": model_a.model_id,
        "SEARCHAPI__STORAGE__ACCESS_KEY": "k",
        "SEARCHAPI__STORAGE__SECRET_KEY": "s",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "uvicorn", "searchapi.main:create_app", "--factory", "--port", "0"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "reindex" in lines[0]
    assert model_b.model_id in lines[0]


def test_the_reindex_command_builds_resumes_and_switches(infra: Stack, model_dir: Path) -> None:
    prefix = f"cli_{uuid.uuid4().hex[:10]}"
    bucket = f"cli-{uuid.uuid4().hex[:10]}"
    store = MinioObjectStore.from_settings(storage_settings(infra, bucket=bucket))
    store.ensure_bucket()
    for i in range(5):
        data = image_bytes((i * 40, 10, 200), fmt="PNG")
        store.put(original_key(content_id(data)), data, "image/png", {"filename": f"{i}.png"})
    env = {
        **os.environ,
        **infra.service_env(),
        "INGESTWORKER__MILVUS__COLLECTION_PREFIX": prefix,
        "INGESTWORKER__STORAGE__BUCKET": bucket,
        "INGESTWORKER__EMBEDDING__MODEL": str(model_dir),
    }

    def reindex(*args: str) -> str:
        argv = [sys.executable, "-m", "ingestworker.cli.reindex", *args]
        proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    first = reindex("--no-switch")
    assert "indexed 5, already there 0, failed 0" in first
    assert "switched" not in first
    second = reindex()
    assert "indexed 0, already there 5, failed 0; switched" in second
    assert "live: none" in second  # nothing was live before this switch


def test_an_index_of_an_older_layout_stops_services_until_reindexed(
    infra: Stack, model_a: Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = milvus_settings(infra)
    current = MilvusVectorIndex.connect(settings, model_a.model_id, model_a.dim)
    current.ensure_collection()
    # as an earlier version left it: the same model live in a collection of the old layout
    IndexCatalog(open_client(settings), settings.collection_prefix).activate(
        f"{settings.collection_prefix}__tiny_clip__0ld0ld00", model_a.model_id, model_a.dim
    )
    with pytest.raises(SystemExit) as stopped, exit_on_failure():
        check_live_model(settings, model_a.model_id, "searchapi")
    assert stopped.value.code == 3
    assert "built by an older version" in capsys.readouterr().err
    with pytest.raises(ConfigMismatch, match="uv run reindex"):
        current.attach()
    current.activate()  # what reindex does once the new collection is built
    current.attach()
