"""What a model says of itself for the people searching with it: a model folder may hold
`imagesearch.json` with what it knows and queries it understands (the offline model does; a
general model like CLIP has none). Read from a local folder or the Hugging Face cache, never
from the network."""

import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

CARD_FILE = "imagesearch.json"


class ModelCard(BaseModel):
    knows: str = Field(max_length=500, description="what the model knows, in a sentence")
    examples: list[str] = Field(default_factory=list, max_length=12)


def model_card(model: str) -> ModelCard | None:
    """The model's card, or None where it has none (or an unreadable one)."""
    path = Path(model).expanduser()
    if path.is_dir():
        card = path / CARD_FILE
    else:
        from huggingface_hub import try_to_load_from_cache

        try:
            cached = try_to_load_from_cache(model, CARD_FILE)
        except ValueError:  # not a hub id
            return None
        if not isinstance(cached, str):
            return None
        card = Path(cached)
    try:
        return ModelCard.model_validate(json.loads(card.read_text()))
    except (OSError, ValueError, ValidationError):
        return None
