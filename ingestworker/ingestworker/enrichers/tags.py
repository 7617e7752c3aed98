"""Auto-tags: the shipped vocabulary's tags whose calibrated threshold the image's stored
vector clears (no second forward pass, no model loaded). They go to the row's ``auto_tags``,
apart from the user's tags; those the user removed (``removed_auto_tags``) are never given
again."""

import threading
from pathlib import Path

from pydantic import BaseModel, Field

from ingestworker.enrichers.outcome import Enriched, EnrichTarget
from ingestworker.enrichers.tag_calibration import TagCalibration, calibration_path
from ingestworker.enrichers.vocabulary import shipped_vocabulary, vocabulary_digest
from shared.config.base import conf_dir
from shared.enrichment import AUTO_TAGS, REMOVED_AUTO_TAGS, EnrichmentState


class TagSettings(BaseModel):
    enabled: bool = Field(True, description="tag pictures from the shipped vocabulary")
    calibrations: Path | None = Field(
        None,
        description="calibrations of models that are not a folder (calibrate-tags writes "
        "them); default: auto-tags/ in the configuration folder",
    )
    max_tags: int = Field(10, ge=1, le=50, description="at most this many auto-tags a picture")

    def calibrations_folder(self) -> Path:
        return self.calibrations or conf_dir() / "auto-tags"


class TagEnricher:
    name = "tags"

    def __init__(self, model: str, settings: TagSettings) -> None:
        self._model = model
        self._settings = settings
        self._lock = threading.Lock()
        self._loaded = False
        self._calibration: TagCalibration | None = None
        self._why_not = ""

    def __call__(self, target: EnrichTarget) -> Enriched:
        if not self._settings.enabled:
            return Enriched(EnrichmentState.skipped, reason="turned off (enrichment.tags.enabled)")
        calibration = self._load()
        if calibration is None:
            return Enriched(EnrichmentState.skipped, {AUTO_TAGS: []}, self._why_not)
        vector = target.fields.get("vector")
        if not isinstance(vector, list | tuple) or not vector:
            return Enriched(EnrichmentState.failed, reason="the row holds no vector")
        listed = target.fields.get(REMOVED_AUTO_TAGS)
        removed = set(listed) if isinstance(listed, list) else set()
        found = calibration.tags_for(vector, self._settings.max_tags + len(removed))
        tags = [tag for tag in found if tag not in removed][: self._settings.max_tags]
        return Enriched(EnrichmentState.done, {AUTO_TAGS: tags})

    def _load(self) -> TagCalibration | None:
        """The model's calibration, read once; None (and why) where it has none that fits."""
        with self._lock:
            if not self._loaded:
                self._calibration, self._why_not = self._read()
                self._loaded = True
            return self._calibration

    def _read(self) -> tuple[TagCalibration | None, str]:
        path = calibration_path(self._model, self._settings.calibrations_folder())
        if not path.is_file():
            return None, f"no tag calibration for this model ({path}): run calibrate-tags"
        calibration = TagCalibration.load(path)
        if calibration.vocabulary != vocabulary_digest(shipped_vocabulary()):
            return None, f"{path} was made for another vocabulary: run calibrate-tags again"
        if not calibration.tags:
            return None, f"{path} calibrates no tag for this model"
        return calibration, ""
