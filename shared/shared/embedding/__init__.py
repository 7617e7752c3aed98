"""The embedder. Importing this package never imports torch: `load_embedder` does, lazily."""

from shared.embedding.protocol import Embedder
from shared.embedding.loader import load_embedder

__all__ = ["Embedder", "load_embedder"]
