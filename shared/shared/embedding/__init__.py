"""The embedder. Importing this package never imports torch: `load_embedder` does, lazily."""

from shared.embedding.loader import load_embedder
from shared.embedding.protocol import Embedder, Vectors

__all__ = ["Embedder", "Vectors", "load_embedder"]
