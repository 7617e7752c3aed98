"""A model evaluation asked for through the API: what to evaluate, where it stands, and its
report once the worker has run it (ingestworker.service.model_evaluation). Kept in object
storage, one JSON object each under ``model-evaluations/``."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from shared.storage import ObjectStore
from shared.storage.json_objects import JsonObjects

EvaluationState = Literal["queued", "running", "done", "failed"]


class EvaluationRecord(BaseModel):
    id: str
    model: str
    sample: int
    seed: int
    state: EvaluationState
    reason: str = ""  # why it failed
    report: dict[str, Any] | None = None
    created_at: datetime
    finished_at: datetime | None = None
    # runs that never ended: the worker died under them (out of memory loading the candidate?)
    interrupted: int = 0


class EvaluationStore(JsonObjects[EvaluationRecord]):
    def __init__(self, store: ObjectStore) -> None:
        super().__init__(store, "model-evaluations/", "model-evaluations.changed", EvaluationRecord)
