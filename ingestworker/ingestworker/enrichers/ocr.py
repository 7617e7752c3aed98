"""Text in the picture: the gate on the preview, then the read. The words go to the row's
``text`` (the keyword side finds them, and parts of long ones); the lines with their boxes to
``ocr`` (the image's details: the lightbox draws them)."""

import io

from PIL import Image

from ingestworker.enrichers.outcome import Enriched, EnrichTarget
from ingestworker.enrichers.text_reader import TextReader
from shared.enrichment import EnrichmentState
from shared.ids import preview_key
from shared.storage import ObjectStore

NO_TEXT: dict[str, object] = {"text": "", "ocr": []}


class OcrEnricher:
    name = "ocr"

    def __init__(self, store: ObjectStore, reader: TextReader, enabled: bool = True) -> None:
        self._store = store
        self._reader = reader
        self._enabled = enabled

    def __call__(self, target: EnrichTarget) -> Enriched:
        if not self._enabled:
            return Enriched(EnrichmentState.skipped, reason="turned off (enrichment.ocr.enabled)")
        data = self._store.open(preview_key(target.image_id)).read()
        with Image.open(io.BytesIO(data)) as preview:
            preview.load()
            if not self._reader.has_text(preview):
                return Enriched(EnrichmentState.skipped, dict(NO_TEXT), "no text found")
            lines = self._reader.read(preview)
        if not lines:
            return Enriched(EnrichmentState.skipped, dict(NO_TEXT), "no text read with confidence")
        return Enriched(
            EnrichmentState.done,
            {
                "text": "\n".join(line.text for line in lines),
                "ocr": [
                    {"text": line.text, "box": list(line.box), "confidence": line.confidence}
                    for line in lines
                ],
            },
        )
