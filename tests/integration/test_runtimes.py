"""embedding.runtime: onnx and openvino run the towers exported to ONNX, and must give the
vectors the reference (sentence-transformers in torch, fp32) gives, for the offline model and
for a model of ViT-B/32's size (random weights, built offline: the architecture is what the
export has to get right)."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagesearch_dev.clip_builder import build_random, vit_b32_config
from shared.config import EmbeddingSettings
from shared.embedding import Embedder, load_embedder
from shared.embedding.export import exported
from shared.embedding.precision import MIN_COSINE, cpu_has_native_bf16
from tests.support.paths import ROOT

VIT_B32 = ROOT / ".run" / "models" / "vit-b-32-random"
LONG_QUERY = " ".join(["a red car parked at night under a street lamp"] * 20)  # past 77 tokens
TEXTS = ["a photo of a red car at night", "two dogs", LONG_QUERY]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache of their own for the exports and the dtype decisions."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        yield cache


@pytest.fixture(scope="module")
def vit_b32() -> Path:
    if not (VIT_B32 / "model.safetensors").exists():
        build_random(VIT_B32, vit_b32_config())
    return VIT_B32


def photos() -> list[Image.Image]:
    rng = np.random.default_rng(3)
    sizes = [(640, 480), (300, 500), (224, 224), (1000, 90)]
    out = []
    for width, height in sizes:
        base = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        out.append(Image.fromarray(base).resize((width, height), Image.Resampling.BICUBIC))
    return out


def load(model: Path, runtime: str, dtype: str = "fp32") -> Embedder:
    return load_embedder(
        EmbeddingSettings(model=str(model), runtime=runtime, dtype=dtype, batch_size=3)  # type: ignore[arg-type]
    )


def agreement(a: Embedder, b: Embedder) -> float:
    images = min(np.sum(a.embed_images(photos()) * b.embed_images(photos()), axis=1))
    texts = min(np.sum(a.embed_texts(TEXTS) * b.embed_texts(TEXTS), axis=1))
    return float(min(images, texts))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("model", ["offline", "vit-b-32"])
def test_every_runtime_gives_the_reference_vectors(
    model: str, model_dir: Path, exports: Path, request: pytest.FixtureRequest
) -> None:
    path = model_dir if model == "offline" else request.getfixturevalue("vit_b32")
    reference = load(path, "torch")
    for runtime in ("onnx", "openvino"):
        embedder = load(path, runtime)
        info = embedder.info()
        assert (info["runtime"], info["dtype"], embedder.dim) == (runtime, "fp32", reference.dim)
        assert agreement(reference, embedder) >= MIN_COSINE, runtime
        # the default (openvino, auto) keeps the bound whatever it picks on this CPU
    chosen = load(path, "auto", "auto")
    assert chosen.info()["runtime"] == "openvino"
    assert chosen.info()["dtype"] in (("fp32", "bf16") if cpu_has_native_bf16() else ("fp32",))
    assert agreement(reference, chosen) >= MIN_COSINE


def test_int8_is_there_by_config_and_stays_close(model_dir: Path, exports: Path) -> None:
    int8 = load(model_dir, "onnx", "int8")
    assert int8.info()["dtype"] == "int8"
    # how close is measured on the ViT-B/32-size model by make bench-embed; the small model
    # only has to stay recognisably the same
    assert agreement(load(model_dir, "torch"), int8) >= 0.95


def test_the_towers_are_exported_once_per_model(model_dir: Path, exports: Path) -> None:
    first = exported(str(model_dir))
    stamp = first.tower("image").stat().st_mtime_ns
    again = exported(str(model_dir))
    assert again == first
    assert again.tower("image").stat().st_mtime_ns == stamp


@pytest.mark.parametrize(("runtime", "dtype"), [("onnx", "bf16"), ("openvino", "int8")])
def test_a_dtype_the_runtime_lacks_is_refused_with_the_choices(
    runtime: str, dtype: str, model_dir: Path, exports: Path
) -> None:
    with pytest.raises(ValueError, match=f"not available with runtime {runtime}: "):
        load(model_dir, runtime, dtype)


def test_empty_input_gives_no_rows(model_dir: Path, exports: Path) -> None:
    embedder = load(model_dir, "openvino")
    assert embedder.embed_images([]).shape == (0, embedder.dim)
