"""Running a model evaluation asked for through the API: its record goes running, then done
with the report, or failed with why (a candidate that cannot be loaded, a library that says
nothing to make queries from). An outage of storage or Milvus raises for a retry, the record
queued again. A run found still running was cut short by its worker dying (the broker hands
the task out again): past MAX_INTERRUPTED such runs it fails, instead of taking the enrichment
worker down with it again and again."""

from contextlib import suppress
from dataclasses import asdict
from datetime import UTC, datetime

from ingestworker.service.model_evaluation import ModelEvaluation
from shared.embedding import ModelUnavailable, check_model
from shared.errors import AppError, NotFound, Unavailable, reason_of
from shared.evaluation_records import EvaluationStore
from shared.log import get_logger

log = get_logger(__name__)

MAX_INTERRUPTED = 2


class EvaluationRunner:
    def __init__(self, store: EvaluationStore, evaluation: ModelEvaluation) -> None:
        self._store = store
        self._evaluation = evaluation

    def run(self, evaluation_id: str) -> str:
        """The state the evaluation ended in ("gone": its record was deleted meanwhile)."""
        try:
            record = self._store.get(evaluation_id)
        except NotFound:
            return "gone"
        if record.state == "running":
            record = record.model_copy(update={"interrupted": record.interrupted + 1})
            log.warning(
                "evaluation_interrupted", evaluation_id=evaluation_id, runs=record.interrupted
            )
            if record.interrupted >= MAX_INTERRUPTED:
                self._store.put(record)
                return self._failed(
                    evaluation_id,
                    f"the worker stopped {record.interrupted} times while running it (out of "
                    f"memory loading {record.model!r}?)",
                )
        self._store.put(record.model_copy(update={"state": "running"}))
        try:
            check_model(record.model)
            report = self._evaluation.run(record.model, record.sample, record.seed)
        except Unavailable:
            with suppress(Unavailable):  # storage may be what is down: then it counts as cut
                self._store.put(record.model_copy(update={"state": "queued"}))
            raise
        except ModelUnavailable as exc:
            return self._failed(evaluation_id, f"model {record.model!r} cannot be loaded: {exc}")
        except AppError as exc:
            return self._failed(evaluation_id, exc.detail)
        except Exception as exc:
            log.exception("evaluation_failed", evaluation_id=evaluation_id)
            return self._failed(evaluation_id, f"the evaluation failed: {reason_of(exc)}")
        finished = record.model_copy(
            update={"state": "done", "report": asdict(report), "finished_at": datetime.now(UTC)}
        )
        self._store.put(finished)
        return "done"

    def _failed(self, evaluation_id: str, reason: str) -> str:
        record = self._store.get(evaluation_id)
        self._store.put(
            record.model_copy(
                update={"state": "failed", "reason": reason[:500], "finished_at": datetime.now(UTC)}
            )
        )
        return "failed"
