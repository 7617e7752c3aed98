"""CLIP through sentence-transformers: the same code loads a hub id or a local directory."""

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image
from sentence_transformers import SentenceTransformer

from shared.config import EmbeddingSettings
from shared.embedding.protocol import Vectors


class SentenceTransformerEmbedder:
    def __init__(self, model: SentenceTransformer, model_id: str, batch_size: int) -> None:
        self._model = model
        self._batch_size = batch_size
        self.model_id = model_id
        self.device = str(model.device)
        self.dim = int(self.embed_texts(["dimension probe"]).shape[1])

    @classmethod
    def load(cls, settings: EmbeddingSettings) -> "SentenceTransformerEmbedder":
        if settings.threads:
            torch.set_num_threads(settings.threads)
        device = settings.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model = SentenceTransformer(settings.model, device=device)
        model.eval()
        return cls(model, settings.model, settings.batch_size)

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        return self._encode(list(images))

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        return self._encode(list(texts))

    def _encode(self, inputs: list[Image.Image] | list[str]) -> Vectors:
        with torch.inference_mode():
            vectors = self._model.encode(
                inputs,  # type: ignore[arg-type]
                batch_size=self._batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)
