"""The sentence-transformers embedder (runtime torch) with the offline model: settings that change
how it runs. The other runtimes against it: test_runtimes.py."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shared.config import EmbeddingSettings
from shared.embedding import load_embedder
from shared.embedding.precision import MIN_COSINE, Trial, choose, cpu_has_native_bf16

CAPTION = "a large red circle in the centre on a white background"


def settings(model: Path, **values: object) -> EmbeddingSettings:
    return EmbeddingSettings(model=str(model), runtime="torch", **values)  # type: ignore[arg-type]


def test_info_reports_model_dimension_device_runtime_and_dtype(model_dir: Path) -> None:
    embedder = load_embedder(settings(model_dir, device="auto"))
    info = embedder.info()
    assert info["model"] == str(model_dir)
    assert info["dim"] == embedder.dim == 128
    assert info["device"] == "cpu"  # auto, and this machine has no GPU
    assert info["runtime"] == "torch"
    assert info["dtype"] in ("fp32", "bf16")  # auto on the CPU: measured where bf16 is native


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="the CPU has no native bf16")
def test_auto_keeps_bf16_only_when_faster_and_within_the_cosine_bound(model_dir: Path) -> None:
    embedder = load_embedder(settings(model_dir, dtype="auto"))
    info = embedder.info()
    assert {"fp32_s", "bf16_s", "bf16_min_cosine"} <= info.keys()  # it measured both
    assert info["dtype"] == choose(
        Trial(float(info["fp32_s"]), 1.0),  # type: ignore[arg-type]
        Trial(float(info["bf16_s"]), float(info["bf16_min_cosine"])),  # type: ignore[arg-type]
    )
    fp32 = load_embedder(settings(model_dir, dtype="fp32"))
    images = [Image.new("RGB", (90, 70), c) for c in ("red", "teal", "orange")]
    agree = np.sum(embedder.embed_images(images) * fp32.embed_images(images), axis=1)
    assert agree.min() >= MIN_COSINE
    vectors = embedder.embed_texts([CAPTION, "a blue square"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_vectors_are_normalized_and_batched_like_one_by_one(model_dir: Path) -> None:
    embedder = load_embedder(settings(model_dir, batch_size=2, dtype="fp32"))
    images = [Image.new("RGB", (100, 80), c) for c in ("red", "green", "blue")]
    together = embedder.embed_images(images)
    alone = np.vstack([embedder.embed_images([img]) for img in images])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-5)


def test_bf16_gives_nearly_the_same_vectors(model_dir: Path) -> None:
    fp32 = load_embedder(settings(model_dir, dtype="fp32"))
    bf16 = load_embedder(settings(model_dir, dtype="bf16"))
    assert bf16.info()["dtype"] == "bf16"
    a, b = fp32.embed_texts([CAPTION])[0], bf16.embed_texts([CAPTION])[0]
    assert float(a @ b) > 0.98


def test_fp16_on_the_cpu_is_refused(model_dir: Path) -> None:
    with pytest.raises(ValueError, match="fp16 needs CUDA"):
        load_embedder(settings(model_dir, device="cpu", dtype="fp16"))


def test_a_separate_text_model_embeds_the_queries(model_dir: Path, tmp_path: Path) -> None:
    text_copy = tmp_path / "text-encoder"
    shutil.copytree(model_dir, text_copy)
    # one dtype for both: auto may measure differently in each
    embedder = load_embedder(settings(model_dir, text_model=str(text_copy), dtype="fp32"))
    assert embedder.info()["text_model"] == str(text_copy)
    plain = load_embedder(settings(model_dir, dtype="fp32"))
    assert np.allclose(embedder.embed_texts([CAPTION]), plain.embed_texts([CAPTION]), atol=1e-5)
