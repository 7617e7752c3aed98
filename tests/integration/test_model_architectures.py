"""`embedding.model` takes any dual encoder sentence-transformers loads: stronger CLIPs and a
SigLIP-class model (random weights in the hub's transformers layout, built offline) go through
the production path, the services' default runtime included, with the vector dimension taken
from the model into the Milvus collection. And the production default's exact hub layout
(laion/CLIP-ViT-B-32-laion2B-s34B-b79K) loads the same way."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imagesearch_dev.clip_builder import (
    ARCHITECTURES,
    LAION_B32_FILES,
    build_laion_layout,
    build_random,
)
from imagesearch_dev.localstack import Stack
from shared.config import EmbeddingSettings
from shared.embedding import Embedder, load_embedder
from shared.vectors import ImageRecord, MilvusVectorIndex
from tests.support.paths import ROOT
from tests.support.stack import milvus_settings

MODELS = ROOT / ".run" / "models"
TEXTS = ["a red car at night", " ".join(["two dogs on a beach at dawn"] * 20)]  # past 77 tokens


@pytest.fixture(scope="module", autouse=True)
def exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache of their own for the runtimes' exports and dtype decisions."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        yield cache


def built(arch: str) -> Path:
    path = MODELS / f"{arch}-random"
    if not (path / "model.safetensors").exists():
        build_random(path, ARCHITECTURES[arch]())
    return path


def photos() -> list[Image.Image]:
    rng = np.random.default_rng(5)
    return [
        Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize(size)
        for size in ((640, 480), (90, 1000))
    ]


def through_the_index(stack: Stack, model: str, embedder: Embedder) -> None:
    """What the worker and searchapi do with a model: a collection of its dimension, image
    vectors in, a text query out."""
    index = MilvusVectorIndex.connect(milvus_settings(stack), model, embedder.dim)
    index.attach()
    vectors = embedder.embed_images(photos())
    index.upsert(
        [
            ImageRecord(f"{i:064x}", vector.tolist(), f"{i}.png", "image/png", 8, 6, 100, 1)
            for i, vector in enumerate(vectors)
        ]
    )
    hits = index.search(embedder.embed_texts(TEXTS[:1])[0].tolist(), limit=5)
    assert sorted(h.id for h in hits) == [f"{i:064x}" for i in range(2)]


@pytest.mark.parametrize(
    ("arch", "dim"), [("vit-b-16", 512), ("vit-l-14", 768), ("siglip-base", 768)]
)
def test_a_stronger_model_runs_through_the_production_path(
    infra: Stack, arch: str, dim: int
) -> None:
    path = built(arch)
    embedder = load_embedder(EmbeddingSettings(model=str(path)))  # the services' defaults
    assert embedder.dim == dim  # taken from the model, configured nowhere
    images, texts = embedder.embed_images(photos()), embedder.embed_texts(TEXTS)
    assert images.shape == (2, dim) and texts.shape == (2, dim)
    assert np.allclose(np.linalg.norm(images, axis=1), 1, atol=1e-3)
    assert np.allclose(np.linalg.norm(texts, axis=1), 1, atol=1e-3)
    # a query's vector does not depend on what it was batched with (SigLIP pads every text
    # to its full length, as it was trained)
    alone = embedder.embed_texts(TEXTS[:1])[0]
    assert float(alone @ texts[0]) > 0.999
    through_the_index(infra, str(path), embedder)


def test_the_default_models_hub_layout_loads_through_the_production_path(infra: Stack) -> None:
    path = MODELS / "laion-clip-vit-b-32-layout"
    if not (path / "model.safetensors").exists():
        build_laion_layout(path)
    assert sorted(p.name for p in path.iterdir()) == sorted(LAION_B32_FILES)
    embedder = load_embedder(EmbeddingSettings(model=str(path)))
    assert embedder.dim == 512
    # the same weights through the reference runtime: the layout's processor and tokenizer
    # files are read as the hub's are
    reference = load_embedder(EmbeddingSettings(model=str(path), runtime="torch", dtype="fp32"))
    assert (
        np.min(np.sum(embedder.embed_images(photos()) * reference.embed_images(photos()), 1)) > 0.99
    )
    assert np.min(np.sum(embedder.embed_texts(TEXTS) * reference.embed_texts(TEXTS), 1)) > 0.99
    through_the_index(infra, str(path), embedder)
