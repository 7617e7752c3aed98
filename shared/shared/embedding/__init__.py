"""The embedder. Importing this package never imports torch: `load_embedder` does, lazily."""

from shared.embedding.availability import ModelUnavailable, check_model
from shared.embedding.loader import load_embedder
from shared.embedding.protocol import Embedder, Vectors

__all__ = ["Embedder", "ModelUnavailable", "Vectors", "check_model", "load_embedder"]
