"""What an enrichment stage takes (the row) and gives (its outcome)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from shared.enrichment import EnrichmentState


@dataclass(frozen=True)
class EnrichTarget:
    """An indexed image as its row holds it (every field, the vector included)."""

    image_id: str
    fields: Mapping[str, object]


@dataclass(frozen=True)
class Enriched:
    """An enrichment's outcome: its state, why (skipped or failed), and the row fields it sets
    (a field set to "" or [] clears what an earlier run found)."""

    state: EnrichmentState
    fields: dict[str, object] = field(default_factory=dict)
    reason: str = ""


class Enricher(Protocol):
    name: str  # as in shared.enrichment.ENRICHMENTS

    def __call__(self, target: EnrichTarget) -> Enriched: ...
