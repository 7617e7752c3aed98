"""Evaluating a candidate model on a library before switching: the offline model against a
second model the project builds (the same size, untrained: another seed), on a library of
rendered scenes whose captions, tags and file names make the queries. The offline model must
come out far ahead, each side timed, the switch costed; nothing is written anywhere. Then the
command on the whole stack: its report, and its refusals."""

import json
import os
import random
import shutil
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from transformers import CLIPConfig

from imagesearch_dev.clip_builder import build_random
from imagesearch_dev.localstack import Stack
from imagesearch_dev.training.scenes import all_scenes, render
from ingestworker.service.model_evaluation import ModelEvaluation, NothingToEvaluate
from shared.config import EmbeddingSettings
from shared.embedding import Embedder, load_embedder
from shared.ids import content_id, original_key
from shared.vectors.catalog import ActiveIndex
from tests.support.paths import MODEL_DIR, ROOT
from tests.support.scenes import upload_described_scenes
from tests.unit.fakes import InMemoryObjectStore

UNTRAINED = ROOT / ".run" / "models" / "tiny-clip-untrained-seed1"


@pytest.fixture(scope="module")
def untrained() -> Path:
    """The offline model's architecture with random weights (seed 1): a model that knows nothing."""
    if not (UNTRAINED / "config.json").exists():
        config = CLIPConfig.from_pretrained(MODEL_DIR)
        build_random(UNTRAINED, config, seed=1)
        # the offline model's processor: its 64 px input and its tokenizer
        for name in ("processor_config.json", "tokenizer.json", "tokenizer_config.json"):
            shutil.copy(MODEL_DIR / name, UNTRAINED / name)
    return UNTRAINED


class SceneLibrary:
    """A live library of rendered scenes, as the index would hand out its rows."""

    def __init__(self, store: InMemoryObjectStore, count: int) -> None:
        rng = random.Random(7)
        scenes = rng.sample(all_scenes(), count)
        self.rows: list[dict[str, object]] = []
        for n, scene in enumerate(scenes):
            out = BytesIO()
            render(scene, 128, rng).save(out, "PNG")
            image_id = content_id(out.getvalue())
            store.put(original_key(image_id), out.getvalue(), "image/png")
            name = f"{scene.colour}-{scene.shape}-{n}.png" if n % 2 else f"IMG_{n:04d}.png"
            self.rows.append(
                {"id": image_id, "filename": name, "caption": scene.caption if n % 3 else "",
                 "tags": [scene.colour], "auto_tags": [scene.shape]}
            )  # fmt: skip
        self.read = 0

    def active(self) -> ActiveIndex:
        return ActiveIndex("images_x", str(MODEL_DIR), 128, 0)

    def sample_rows(self, limit: int) -> list[dict[str, object]]:
        self.read += 1
        return [dict(r) for r in self.rows[:limit]]

    def count(self) -> int:
        return 5000  # the library beyond the sample: what a switch would embed


def loader(model: str) -> Embedder:
    return load_embedder(EmbeddingSettings(model=model, runtime="onnx", dtype="fp32"))


def test_the_offline_model_beats_an_untrained_one_on_the_librarys_own_words(
    untrained: Path,
) -> None:
    store = InMemoryObjectStore()
    library = SceneLibrary(store, 80)
    before = dict(store.objects)
    report = ModelEvaluation(library, store, loader).run(str(untrained), sample=60, seed=3)
    assert report.sampled == 60 and report.unreadable == 0
    assert report.queries_by_source["caption"] > 10 and report.queries_by_source["tags"] == 8
    assert report.queries_by_source["filename"] > 0  # "purple star", not "IMG_0004"
    live, candidate = report.live.metrics, report.candidate.metrics
    assert live["recall@10"] >= 0.7 and live["mrr"] > candidate["mrr"] + 0.2
    assert candidate["recall@1"] <= 0.3  # an untrained model finds little
    assert report.live.embed_ms_per_image > 0 and report.candidate.embed_ms_per_image > 0
    assert report.switch_estimated_s > 0 and report.library_images == 5000
    assert set(report.live.by_source) == {"caption", "tags", "filename"}
    assert store.objects == before  # nothing written


def test_a_library_that_says_nothing_of_its_pictures_is_refused_with_why(
    untrained: Path,
) -> None:
    store = InMemoryObjectStore()
    library = SceneLibrary(store, 12)
    for row in library.rows:
        row.update(caption="", tags=[], filename="IMG_0001.jpg")
    with pytest.raises(NothingToEvaluate, match="say nothing to make queries from"):
        ModelEvaluation(library, store, loader).run(str(untrained), sample=12)


def command(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **stack.service_env(), "INGESTWORKER__LOG__LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "ingestworker.cli.evaluate_model", *args],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_the_command_reports_on_the_stacks_library_and_refuses_bad_arguments(
    full_stack: Stack, tmp_path: Path
) -> None:
    with httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60) as api:
        upload_described_scenes(api, 12, seed=11)
    out_file = tmp_path / "report.json"
    # the live model as its own candidate: the same answers, to the last digit
    done = command(full_stack, "--model", str(MODEL_DIR), "--sample", "40", "--json", str(out_file))
    assert done.returncode == 0, done.stderr
    assert "recall@10" in done.stdout and "switching:" in done.stdout
    report = json.loads(out_file.read_text())
    assert report["live"]["metrics"] == report["candidate"]["metrics"]
    assert command(full_stack, "--model", str(MODEL_DIR), "--sample", "3").returncode == 2
    missing = command(full_stack, "--model", str(tmp_path / "no-such-model"))
    assert missing.returncode != 0 and "cannot be loaded" in missing.stderr + missing.stdout
