"""Which model answers searches, as the page and the API show it: its id, dimension, runtime
and dtype, and, where the model folder says so (shared.embedding.model_card), what it knows
and example queries it understands."""

from pydantic import BaseModel, Field

from shared.embedding import Embedder
from shared.embedding.model_card import ModelCard


class LiveModel(BaseModel):
    model: str
    dim: int
    runtime: str
    dtype: str
    device: str
    knows: str | None = Field(None, description="what the model knows, where it says so")
    examples: list[str] = Field(default_factory=list, description="queries it understands")

    @classmethod
    def of(cls, embedder: Embedder, card: ModelCard | None) -> "LiveModel":
        info = embedder.info()
        return cls(
            model=str(info["model"]),
            dim=embedder.dim,
            runtime=str(info.get("runtime", "torch")),
            dtype=str(info.get("dtype", "fp32")),
            device=str(info.get("device", "cpu")),
            knows=card.knows if card else None,
            examples=card.examples if card else [],
        )
