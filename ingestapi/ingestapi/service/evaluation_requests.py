"""Model evaluations asked for by the page or a client: recorded in object storage and queued
for the worker, which loads the candidate (a folder on its machine, or a hub id) and writes
the report, or why it could not, into the same record
(ingestworker.service.evaluation_runner)."""

import re
import uuid
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import NotFound
from shared.evaluation_records import EvaluationRecord, EvaluationStore

ID = re.compile(r"^[0-9a-f]{32}$")


class EvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        min_length=1,
        max_length=300,
        pattern=r"^[^\x00-\x1f]+$",
        description="a Hugging Face id, or a model folder on the worker's machine",
    )
    sample: int = Field(200, ge=10, le=1000, description="pictures of the library to sample")
    seed: int = Field(0, ge=0, le=2**31, description="which sample (the same one again)")


class EvaluationQueue(Protocol):
    def enqueue_evaluation(self, evaluation_id: str) -> None: ...


class ModelEvaluationService:
    def __init__(self, store: EvaluationStore, queue: EvaluationQueue) -> None:
        self._store = store
        self._queue = queue

    def create(self, body: EvaluationIn) -> EvaluationRecord:
        record = EvaluationRecord(
            id=uuid.uuid4().hex,
            model=body.model,
            sample=body.sample,
            seed=body.seed,
            state="queued",
            created_at=datetime.now(UTC),
        )
        self._store.put(record)
        self._queue.enqueue_evaluation(record.id)
        return record

    def get(self, evaluation_id: str) -> EvaluationRecord:
        if not ID.match(evaluation_id):
            raise NotFound("no such evaluation")
        try:
            return self._store.get(evaluation_id)
        except NotFound:
            raise NotFound("no such evaluation") from None
