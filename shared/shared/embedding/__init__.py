"""The embedder. Importing this package never imports torch: `load_embedder` does, lazily."""

from shared.embedding.loader import load_embedder
from shared.embedding.protocol import Embedder

__all__ = ["Embedder", "load_embedder"]
