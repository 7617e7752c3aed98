"""Enrichment after indexing: facts and states onto the row and into the details object; a
failing enrichment costs nothing else; deleted and not-yet-visible images are handled."""

import json

from ingestworker.enrichers import Enriched, EnrichTarget
from ingestworker.service.enriching import EnrichmentService
from ingestworker.stages import BatchOutcome, PreparedImage, QueueEnrichment, Row
from shared.enrichment import EnrichmentState, is_enriched
from shared.ids import details_key, original_key
from shared.images import DecodedImage
from shared.schemas import ImageState, ImageStatus
from tests.unit.fakes import InMemoryJobStore, InMemoryObjectStore, RecordingQueue, RowsIndex


class Finds:
    name = "place"

    def __call__(self, target: EnrichTarget) -> Enriched:
        return Enriched(EnrichmentState.done, {"place": f"near {target.fields['filename']}"})


class Breaks:
    name = "ocr"

    def __call__(self, target: EnrichTarget) -> Enriched:
        raise ValueError("model file unreadable")


def setup(*image_ids: str) -> tuple[RowsIndex, InMemoryObjectStore, InMemoryJobStore]:
    index = RowsIndex({i: {"id": i, "filename": f"{i}.jpg", "vector": [1.0]} for i in image_ids})
    store, jobs = InMemoryObjectStore(), InMemoryJobStore()
    for image_id in image_ids:
        store.put(original_key(image_id), b"x", "image/jpeg")
        jobs.set_state(image_id, ImageState.indexed)
    jobs.add_to_enrich(image_ids)
    return index, store, jobs


def test_facts_and_states_go_onto_the_row_and_into_the_details() -> None:
    index, store, jobs = setup("a")
    report = EnrichmentService(index, store, jobs, [Finds()]).run(["a"])
    assert report.enriched == ["a"]
    assert index.rows["a"]["place"] == "near a.jpg"
    assert index.rows["a"]["enrichment"] == {"place": {"state": "done", "reason": ""}}
    details = json.loads(store.open(details_key("a")).read())
    assert details["facts"]["place"] == "near a.jpg"
    assert "vector" not in details["facts"] and "filename" not in details["facts"]
    assert jobs.enrich_backlog() == 0


def test_a_failing_enrichment_records_why_and_costs_nothing_else() -> None:
    index, store, jobs = setup("a", "b")
    report = EnrichmentService(index, store, jobs, [Breaks(), Finds()]).run(["a", "b"])
    assert report.enriched == ["a", "b"]
    for image_id in ("a", "b"):
        row = index.rows[image_id]
        assert row["place"] == f"near {image_id}.jpg"  # the other enrichment still ran
        assert row["enrichment"]["ocr"] == {  # type: ignore[index]
            "state": "failed",
            "reason": "ValueError: model file unreadable",
        }
        assert jobs.state_of(image_id) == ImageState.indexed  # the image did not fail


def test_a_deleted_image_is_let_go_and_one_not_visible_yet_is_kept_for_another_look() -> None:
    index, store, jobs = setup("a")
    jobs.add_to_enrich(["deleted", "later"])
    jobs.set_state("deleted", ImageState.deleted)
    service = EnrichmentService(index, store, jobs, [Finds()])
    report = service.run(["a", "deleted", "later"])
    assert (report.enriched, report.gone, report.missing) == (["a"], ["deleted"], ["later"])
    assert jobs.enrich_pending == {"later"}
    service.run(["later"], last_look=True)
    assert jobs.enrich_backlog() == 0


def test_the_status_says_pending_until_an_enrichment_ran() -> None:
    status = ImageStatus.indexed("a", {"filename": "a.jpg"})
    assert status.enrichment is not None
    assert status.enrichment["place"].state == "pending"
    done = ImageStatus.indexed(
        "a", {"enrichment": {"place": {"state": "skipped", "reason": "no GPS position"}}}
    )
    assert done.enrichment is not None
    assert (done.enrichment["place"].state, done.enrichment["place"].reason) == (
        "skipped",
        "no GPS position",
    )
    assert "enrichment" not in (done.metadata or {})


def row(image_id: str, facts: dict[str, object]) -> Row:
    decoded = DecodedImage(None, 1, 1, "image/jpeg")  # type: ignore[arg-type]
    image = PreparedImage(image_id, decoded, 1, "a.jpg", 0, "", "", [], facts=facts)
    return Row(image, [1.0])


def test_indexed_rows_are_queued_for_enrichment_unless_they_carry_it() -> None:
    queue, jobs = RecordingQueue(), InMemoryJobStore()
    carried: dict[str, object] = {
        "enrichment": {
            "place": {"state": "done"},
            "ocr": {"state": "skipped"},
            "tags": {"state": "done"},
        },
        "place": "Lisbon, Portugal",
    }
    assert is_enriched(carried)
    rows = [row("new", {}), row("reindexed", carried)]
    assert QueueEnrichment(queue, jobs)(rows, BatchOutcome(jobs)) == rows
    assert queue.enrich == [["new"]]
    assert jobs.enrich_backlog() == 1
    QueueEnrichment(queue, jobs, enabled=False)(rows, BatchOutcome(jobs))
    assert queue.enrich == [["new"]]


def test_an_enrichment_run_again_alone_keeps_the_others_facts_and_states() -> None:
    index, store, jobs = setup("a")
    EnrichmentService(index, store, jobs, [Finds(), Breaks()]).run(["a"])
    index.rows["a"]["place"] = "kept"
    EnrichmentService(index, store, jobs, [Finds(), Fixed()]).run(["a"], only=["ocr"])
    assert index.rows["a"]["place"] == "kept"  # place did not run again
    assert index.rows["a"]["enrichment"] == {
        "place": {"state": "done", "reason": ""},
        "ocr": {"state": "done", "reason": ""},
    }


def test_an_enrichment_run_again_that_finds_the_same_writes_nothing() -> None:
    index, store, jobs = setup("a")
    EnrichmentService(index, store, jobs, [Finds()]).run(["a"])
    written = dict(index.rows["a"])
    store.objects.clear()  # a write would put the details object back
    report = EnrichmentService(index, store, jobs, [Finds()]).run(["a"], only=["place"])
    assert (report.enriched, report.unchanged) == ([], ["a"])
    assert index.rows["a"] == written and not store.objects
    assert jobs.enrich_queued_since(["a"]) == {}  # finished: out of the backlog


class Fixed:
    name = "ocr"

    def __call__(self, target: EnrichTarget) -> Enriched:
        return Enriched(EnrichmentState.done, {"text": "OPEN"})
