from shared.config import EmbeddingSettings
from shared.embedding.protocol import Embedder


def resolve_runtime(settings: EmbeddingSettings) -> str:
    """auto: torch on CUDA (fp16 there), else OpenVINO where it is installed."""
    if settings.runtime != "auto":
        return settings.runtime
    import importlib.util

    if settings.device == "cuda" or importlib.util.find_spec("openvino") is None:
        return "torch"
    if settings.device == "auto":
        import torch

        if torch.cuda.is_available():
            return "torch"
    return "openvino"


def load_embedder(settings: EmbeddingSettings) -> Embedder:
    # torch, sentence-transformers and the runtimes only load in the services that embed
    runtime = resolve_runtime(settings)
    if runtime == "torch":
        from shared.embedding.sentence_transformer import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder.load(settings)
    from shared.embedding.exported import ExportedEmbedder

    return ExportedEmbedder.load(settings.model_copy(update={"runtime": runtime}))
