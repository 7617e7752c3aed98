"""A model evaluation run by the worker: done with its report; queued again after an outage;
and one whose worker keeps dying under it (a candidate too large for the machine) fails with
why instead of taking the enrichment worker down again and again."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestworker.service.evaluation_runner import MAX_INTERRUPTED, EvaluationRunner
from ingestworker.service.model_evaluation import EvaluationReport, ModelScore
from shared.errors import Unavailable
from shared.evaluation_records import EvaluationRecord, EvaluationState, EvaluationStore
from tests.unit.fakes import InMemoryObjectStore

SCORE = ModelScore("m", 3, "torch", "fp32", 1.0, 1.0, {"recall@1": 1.0})
REPORT = EvaluationReport(1, 0, 1, {"caption": 1}, SCORE, SCORE, 1, 1.0, 1.0)


class Evaluation:
    def __init__(self, outage: bool = False) -> None:
        self.runs = 0
        self.outage = outage

    def run(self, candidate: str, sample: int, seed: int) -> EvaluationReport:
        self.runs += 1
        if self.outage:
            raise Unavailable("milvus unreachable")
        return REPORT


def stored(model: Path, state: EvaluationState, interrupted: int = 0) -> EvaluationStore:
    store = EvaluationStore(InMemoryObjectStore())
    store.put(
        EvaluationRecord(
            id="e1", model=str(model), sample=10, seed=0, state=state,
            created_at=datetime(2026, 12, 7, tzinfo=UTC), interrupted=interrupted,
        )
    )  # fmt: skip
    return store


def test_a_queued_evaluation_runs_and_is_done_with_its_report(tmp_path: Path) -> None:
    store, evaluation = stored(tmp_path, "queued"), Evaluation()
    assert EvaluationRunner(store, evaluation).run("e1") == "done"  # type: ignore[arg-type]
    record = store.get("e1")
    assert (record.state, record.interrupted) == ("done", 0)
    assert record.report is not None and record.report["queries"] == 1


def test_an_outage_queues_it_again_for_the_retry(tmp_path: Path) -> None:
    store = stored(tmp_path, "queued")
    with pytest.raises(Unavailable):
        EvaluationRunner(store, Evaluation(outage=True)).run("e1")  # type: ignore[arg-type]
    assert store.get("e1").state == "queued"


def test_a_run_whose_worker_died_is_run_again_once_then_fails_with_why(tmp_path: Path) -> None:
    # a record left running: its worker died under it, and the broker handed the task out again
    store, evaluation = stored(tmp_path, "running"), Evaluation()
    assert EvaluationRunner(store, evaluation).run("e1") == "done"  # type: ignore[arg-type]
    assert (store.get("e1").interrupted, evaluation.runs) == (1, 1)

    store, evaluation = stored(tmp_path, "running", MAX_INTERRUPTED - 1), Evaluation()
    assert EvaluationRunner(store, evaluation).run("e1") == "failed"  # type: ignore[arg-type]
    record = store.get("e1")
    assert evaluation.runs == 0
    assert record.state == "failed" and record.interrupted == MAX_INTERRUPTED
    assert record.reason.startswith(f"the worker stopped {MAX_INTERRUPTED} times while running")
