"""The enrichment stages, run after an image is indexed (service.enrichment): each reads what
the row already holds and returns facts for it. A new enrichment is one module here, its name in
shared.enrichment.ENRICHMENTS and one provider in the container."""

from ingestworker.enrichers.ocr import OcrEnricher
from ingestworker.enrichers.outcome import Enriched, Enricher, EnrichTarget
from ingestworker.enrichers.place import PlaceEnricher
from ingestworker.enrichers.tags import TagEnricher

__all__ = ["EnrichTarget", "Enriched", "Enricher", "OcrEnricher", "PlaceEnricher", "TagEnricher"]
