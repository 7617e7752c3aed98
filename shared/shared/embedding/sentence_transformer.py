"""CLIP through sentence-transformers: the same code loads a hub id or a local directory."""

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import torch
from PIL import Image
from sentence_transformers import SentenceTransformer

from shared.config import EmbeddingSettings
from shared.embedding.export import pads_to_full_length
from shared.embedding.identity import EmbedderIdentity
from shared.embedding.precision import Trial, cpu_has_native_bf16, machine_key, settle_dtype
from shared.embedding.protocol import Vectors

_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(dtype: str, device: str) -> str:
    """The configured dtype, or "auto" where only a measurement can tell (a bf16 CPU)."""
    if dtype == "auto":
        if device.startswith("cuda"):
            return "fp16"
        return "auto" if cpu_has_native_bf16() else "fp32"
    if dtype == "int8":
        raise ValueError("embedding.dtype int8 needs runtime onnx")
    if dtype == "fp16" and not device.startswith("cuda"):
        raise ValueError("embedding.dtype fp16 needs CUDA; use bf16 or fp32 on the CPU")
    return dtype


class SentenceTransformerEmbedder(EmbedderIdentity):
    def __init__(
        self,
        model: SentenceTransformer,
        model_id: str,
        batch_size: int,
        dtype: str = "fp32",
        text_model: SentenceTransformer | None = None,
        text_model_id: str | None = None,
    ) -> None:
        self._model = model
        self._text_model = text_model or model
        self._batch_size = batch_size
        self.model_id = model_id
        self.text_model_id = text_model_id or model_id
        self.device = str(model.device)
        self.runtime = "torch"
        self.dtype = dtype
        self.dtype_trials: dict[str, Trial] = {}
        self.dim = int(self.embed_images([Image.new("RGB", (32, 32))]).shape[1])
        self._check_one_space(int(self.embed_texts(["dimension probe"]).shape[1]))

    @classmethod
    def load(cls, settings: EmbeddingSettings) -> "SentenceTransformerEmbedder":
        if settings.threads:
            torch.set_num_threads(settings.threads)
        device = resolve_device(settings.device)
        dtype = resolve_dtype(settings.dtype, device)
        weights = "fp32" if dtype == "auto" else dtype  # auto: bf16 autocast over fp32 weights
        model = _load(settings.model, device, weights)
        text_model = _load(settings.text_model, device, weights) if settings.text_model else None
        embedder = cls(
            model, settings.model, settings.batch_size, weights, text_model, settings.text_model
        )
        if dtype == "auto":
            key = machine_key(f"torch|{settings.model}", torch.get_num_threads())
            settle_dtype(embedder, key, settings.batch_size)
        return embedder

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        return self._encode(self._model, list(images))

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        return self._encode(self._text_model, list(texts))

    def _encode(self, model: SentenceTransformer, inputs: list[Image.Image] | list[str]) -> Vectors:
        with torch.inference_mode(), self._autocast():
            vectors = model.encode(
                inputs,  # type: ignore[arg-type]
                batch_size=self._batch_size,
                convert_to_numpy=False,
                convert_to_tensor=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        # normalised again in fp32: under bf16 autocast the model's own normalisation is off by
        # up to 0.3%
        vectors = torch.nn.functional.normalize(vectors.float(), dim=-1)
        return np.asarray(vectors.cpu().numpy(), dtype=np.float32)

    def _autocast(self) -> AbstractContextManager[object]:
        # half-precision weights still get fp32 pixel inputs: autocast casts per op
        if self.dtype == "fp32":
            return nullcontext()
        return torch.autocast(device_type=self.device.split(":")[0], dtype=_DTYPES[self.dtype])


def _load(model_id: str, device: str, dtype: str) -> SentenceTransformer:
    model = SentenceTransformer(model_id, device=device, model_kwargs={"dtype": _DTYPES[dtype]})
    model.eval()
    _truncate_to_context(model)
    first: Any = model[0]
    if pads_to_full_length(getattr(first, "model", None)) and hasattr(first, "processing_kwargs"):
        first.processing_kwargs = {
            **first.processing_kwargs,
            "text": {"padding": "max_length", "max_length": first.max_seq_length},
        }
    return model


def _truncate_to_context(model: SentenceTransformer) -> None:
    """Cut long texts at the text tower's positions (77 for CLIP), as CLIP itself does: a
    tokenizer saved without model_max_length would otherwise pass a long query through whole,
    and the model would refuse it."""
    first = model[0]
    config = getattr(getattr(first, "auto_model", None), "config", None)
    positions = getattr(getattr(config, "text_config", config), "max_position_embeddings", None)
    current = getattr(first, "max_seq_length", None)
    if isinstance(positions, int) and isinstance(current, int) and current > positions:
        setattr(first, "max_seq_length", positions)  # noqa: B010 - typed as a Module attribute
