"""New images are matched against the saved searches compiled for the worker's model: the
albums they join go into their rows as they are indexed, and again when enrichment finds what
makes them belong; the worker reads the searches again only when they changed."""

from dataclasses import dataclass
from datetime import UTC, datetime

from ingestworker.enrichers import Enriched, EnrichTarget
from ingestworker.service.enriching import EnrichmentService
from ingestworker.service.saved_search_source import SavedSearchSource
from shared.enrichment import EnrichmentState
from shared.ids import content_id, original_key
from shared.saved_searches import MatchCriteria
from shared.saved_searches.definition import SavedQuery, SavedSearch, criteria_to_json
from shared.saved_searches.store import SavedSearchStore
from shared.schemas import ImageState
from tests.support.images import image_bytes
from tests.support.worker import index_pipeline, worker_settings
from tests.unit.fakes import (
    ColourEmbedder,
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    RowsIndex,
)

MODEL = worker_settings().embedding.model
REDS, OPEN, ELSEWHERE = "a" * 32, "b" * 32, "c" * 32
NOW = datetime(2026, 12, 7, tzinfo=UTC)


def saved(search_id: str, model: str = MODEL, **criteria: object) -> SavedSearch:
    fields: dict[str, object] = {"vectors": (), "min_score": 1.0, "clauses": (), **criteria}
    compiled = MatchCriteria(search_id, **fields)  # type: ignore[arg-type]
    return SavedSearch(
        id=search_id, name=search_id, query=SavedQuery(text="x"), model=model, min_score=None,
        min_score_from="none", criteria=criteria_to_json(compiled), created_at=NOW,
        updated_at=NOW, seen_at=NOW,
    )  # fmt: skip


def test_an_image_joins_the_albums_it_matches_in_the_row_it_is_indexed_with() -> None:
    store, index = InMemoryObjectStore(), InMemoryVectorIndex()
    searches = SavedSearchStore(store)
    searches.put(saved(REDS, vectors=((1.0, 0.0, 0.0),), min_score=0.9))
    # the same query compiled for another model: not matched until compiled for this one
    searches.put(saved(ELSEWHERE, model="another-model", vectors=((1.0, 0.0, 0.0),), min_score=0))
    red, blue = image_bytes((250, 0, 0)), image_bytes((0, 0, 250))
    for data in (red, blue):
        store.put(original_key(content_id(data)), data, "image/png")
    index_pipeline(store, index, ColourEmbedder(), InMemoryJobStore()).run(
        [content_id(red), content_id(blue)]
    )
    assert index.records[content_id(red)].extra["albums"] == [REDS]
    assert "albums" not in index.records[content_id(blue)].extra


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_worker_reads_the_searches_again_only_after_they_changed() -> None:
    store = InMemoryObjectStore()
    searches, clock = SavedSearchStore(store), Clock()
    source = SavedSearchSource(searches, MODEL, refresh_s=5, clock=clock)
    assert len(source.matcher()) == 0
    searches.put(saved(REDS))
    searches.mark_changed()
    assert len(source.matcher()) == 0  # looked 0 s ago
    clock.now = 5
    assert len(source.matcher()) == 1
    store.objects.pop(next(k for k in store.objects if k.endswith(".json")))  # unmarked
    clock.now = 10
    assert len(source.matcher()) == 1  # not read again: the marker did not change


class ReadsOpen:
    name = "ocr"

    def __call__(self, target: EnrichTarget) -> Enriched:
        return Enriched(EnrichmentState.done, {"text": "OPEN 24H"})


@dataclass
class EnrichScene:
    """An indexed red image already in "reds", before enrichment reads "OPEN" in it; the
    saved searches "reds" (by meaning) and "open" (by the word)."""

    store: InMemoryObjectStore
    jobs: InMemoryJobStore
    index: RowsIndex
    source: SavedSearchSource
    image_id: str = "d" * 64


def enrich_scene() -> EnrichScene:
    store, jobs = InMemoryObjectStore(), InMemoryJobStore()
    searches = SavedSearchStore(store)
    searches.put(saved(OPEN, clauses=((("text:open",),),)))
    searches.put(saved(REDS, vectors=((1.0, 0.0, 0.0),), min_score=0.9))
    image_id = "d" * 64
    row: dict[str, object] = {
        "id": image_id, "vector": [1.0, 0.0, 0.0], "filename": "a.jpg", "albums": [REDS],
        "created_at": 7,
    }  # fmt: skip
    store.put(original_key(image_id), b"x", "image/jpeg")
    jobs.set_state(image_id, ImageState.indexed)
    source = SavedSearchSource(searches, MODEL, refresh_s=5)
    return EnrichScene(store, jobs, RowsIndex({image_id: row}), source, image_id)


def test_an_image_enrichment_makes_belong_joins_when_the_facts_land() -> None:
    scene = enrich_scene()
    image_id, index = scene.image_id, scene.index
    EnrichmentService(index, scene.store, scene.jobs, [ReadsOpen()], scene.source).run([image_id])
    assert index.rows[image_id]["albums"] == [REDS, OPEN]  # joined, none left
