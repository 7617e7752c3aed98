import json
from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import ValidationError

from ingestapi.schemas import ImageEdit
from ingestapi.service import DeletionService, EditService
from shared.errors import Conflict, NotFound, Unavailable
from shared.ids import details_key, image_keys, original_key, thumbnail_key
from shared.schemas import ImageState
from shared.vectors import ImageRecord
from tests.unit.fakes import InMemoryJobStore, InMemoryObjectStore, InMemoryVectorIndex

A, B, C = "a" * 64, "b" * 64, "c" * 64


class LibraryIndex(InMemoryVectorIndex):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.removed_auto_tags: dict[str, list[str]] = {}

    def edit(
        self,
        image_id: str,
        caption: str | None,
        tags: Sequence[str] | None,
        removed_auto_tags: Sequence[str] | None = None,
    ) -> dict[str, object] | None:
        record = self.records.get(image_id)
        if record is None:
            return None
        if removed_auto_tags is not None:
            self.removed_auto_tags[image_id] = list(removed_auto_tags)
        changes: dict[str, object] = {}
        if caption is not None:
            changes["caption"] = caption
        if tags is not None:
            changes["tags"] = list(tags)
        self.records[image_id] = ImageRecord(**{**record.__dict__, **changes})  # type: ignore[arg-type]
        return {"caption": self.records[image_id].caption, "tags": self.records[image_id].tags}


class Cache:
    def __init__(self, fails: bool = False) -> None:
        self.forgotten: list[str] = []
        self.fails = fails

    def forget(self, image_ids: Sequence[str]) -> None:
        if self.fails:
            raise Unavailable("the image cache could not be cleared; delete again")
        self.forgotten += image_ids


class World:
    def __init__(self) -> None:
        self.store, self.jobs, self.index = (
            InMemoryObjectStore(),
            InMemoryJobStore(),
            LibraryIndex(),
        )
        self.cache = Cache()
        self.deletion = DeletionService(self.store, self.jobs, self.index, self.cache)
        self.editing = EditService(self.store, self.jobs, self.index)

    def add(
        self, image_id: str, indexed: bool = True, metadata: dict[str, str] | None = None
    ) -> None:
        for key in image_keys(image_id):
            self.store.put(key, b"bytes", "image/jpeg", metadata)
        self.store.objects.pop(details_key(image_id))
        if indexed:
            self.index.upsert(
                [ImageRecord(image_id, [1.0, 0, 0], "f.jpg", "image/jpeg", 1, 1, 5, 0)]
            )
            self.jobs.set_state(image_id, ImageState.indexed)
        else:
            self.jobs.set_state(image_id, ImageState.queued)


def test_delete_removes_every_trace_of_known_images_only() -> None:
    world = World()
    world.add(A)
    world.add(B, indexed=False)
    world.add(C)
    world.jobs.add_to_enrich([A, C])
    result = world.deletion.delete([A, "f" * 64, B, "nope"])
    assert [(i.id, i.status, i.http_status) for i in result.items] == [
        (A, "deleted", 204),
        ("f" * 64, "not_found", 404),
        (B, "deleted", 204),
        ("nope", "not_found", 404),
    ]
    assert sorted(world.store.objects) == sorted(k for k in image_keys(C) if "details" not in k)
    assert set(world.index.records) == {C}
    assert world.jobs.states[A] == (ImageState.deleted, None)
    assert world.jobs.states[B] == (ImageState.deleted, None)
    assert sorted(world.cache.forgotten) == [A, B]
    assert sorted(world.jobs.claims) == [A, B, "f" * 64]
    assert world.jobs.enrich_pending == {C}  # a deleted image is no longer waiting


def test_delete_one_of_an_unknown_image_is_not_found() -> None:
    world = World()
    with pytest.raises(NotFound):
        world.deletion.delete_one(A)
    world.add(A)
    world.deletion.delete_one(A)
    with pytest.raises(NotFound):
        world.deletion.delete_one(A)


def test_a_delete_cut_short_stays_unfinished_and_runs_again() -> None:
    world = World()
    world.add(A)
    world.cache.fails = True
    with pytest.raises(Unavailable):
        world.deletion.delete([A])
    assert world.jobs.states[A] == (ImageState.deleted, "deleting")
    assert world.store.objects == {}  # storage was cleared before the cache
    world.cache.fails = False
    assert world.deletion.delete([A]).items[0].status == "deleted"
    assert world.cache.forgotten == [A]
    assert world.jobs.states[A] == (ImageState.deleted, None)


def test_a_row_left_without_its_original_is_still_deleted() -> None:
    world = World()
    world.add(A)
    world.store.delete([original_key(A)])
    assert world.deletion.delete([A]).items[0].status == "deleted"
    assert world.index.records == {}


def test_edit_changes_the_row_and_the_details_a_reindex_reads() -> None:
    world = World()
    world.add(A, metadata={"filename": "f.jpg"})
    status = world.editing.edit(A, ImageEdit.model_validate({"tags": ["sea", "sea, sky"]}))
    assert status.metadata == {"caption": "", "tags": ["sea", "sky"]}
    assert json.loads(world.store.objects[details_key(A)][0]) == {"tags": ["sea", "sky"]}
    assert world.store.objects[original_key(A)][2] == {"filename": "f.jpg", "details": "1"}

    world.editing.edit(A, ImageEdit.model_validate({"caption": "at dusk"}))
    assert json.loads(world.store.objects[details_key(A)][0]) == {
        "tags": ["sea", "sky"],
        "caption": "at dusk",
    }
    assert world.index.records[A].tags == ["sea", "sky"]
    assert world.store.objects[thumbnail_key(A)][0] == b"bytes"


def test_edit_of_an_image_not_indexed_yet_is_a_conflict_and_of_a_deleted_one_not_found() -> None:
    world = World()
    world.add(A, indexed=False)
    with pytest.raises(Conflict, match="queued"):
        world.editing.edit(A, ImageEdit(caption="x"))
    world.add(B)
    world.deletion.delete([B])
    for image_id in (B, C, "../x"):
        with pytest.raises(NotFound):
            world.editing.edit(image_id, ImageEdit(caption="x"))


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"caption": "x", "rating": 5},
        {"tags": [f"t{n}" for n in range(40)]},
        {"tags": ["a\u0007b"]},
        {"caption": 3},
    ],
)
def test_an_edit_must_say_something_valid(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ImageEdit.model_validate(body)


def test_an_edit_with_null_clears_the_field() -> None:
    edit = ImageEdit.model_validate({"caption": None, "tags": None})
    assert (edit.caption, edit.tags) == ("", [])


def test_auto_tags_taken_away_go_with_the_facts_a_reindex_carries() -> None:
    world = World()
    world.add(A, metadata={"details": "1"})
    facts = {"auto_tags": ["dog", "beach"], "place": "Lisbon, Portugal"}
    world.store.put(details_key(A), json.dumps({"caption": "x", "facts": facts}).encode(), "")
    world.editing.edit(A, ImageEdit.model_validate({"removed_auto_tags": ["dog"]}))
    details = json.loads(world.store.objects[details_key(A)][0])
    assert details == {
        "caption": "x",
        "facts": {
            "auto_tags": ["beach"],
            "removed_auto_tags": ["dog"],
            "place": "Lisbon, Portugal",
        },
    }
    assert world.index.removed_auto_tags[A] == ["dog"]
    given_back = ImageEdit.model_validate({"removed_auto_tags": None})
    assert given_back.removed_auto_tags == []
