from shared.config import EmbeddingSettings
from shared.embedding.protocol import Embedder


def load_embedder(settings: EmbeddingSettings) -> Embedder:
    # torch and sentence-transformers only load in the services that embed
    from shared.embedding.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder.load(settings)
