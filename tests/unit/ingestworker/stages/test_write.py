from collections.abc import Sequence

from PIL import Image

from ingestworker.stages import BatchOutcome, PreparedImage, Row, Write
from shared.errors import Unavailable
from shared.ids import derived_keys
from shared.images import DecodedImage
from shared.schemas import ImageState
from shared.vectors import ImageRecord
from tests.unit.fakes import InMemoryJobStore, InMemoryObjectStore, InMemoryVectorIndex


def row(name: str, dup_of: str = "") -> Row:
    decoded = DecodedImage(Image.new("RGB", (4, 3)), 40, 30, "image/jpeg", taken_at=7)
    image = PreparedImage(name, decoded, 99, f"{name}.jpg", 5, "phone", "sea", ["t"], "ab")
    return Row(image, [1.0, 0.0, 0.0], dup_of=dup_of)


class PickyIndex(InMemoryVectorIndex):
    def upsert(self, records: Sequence[ImageRecord]) -> None:
        if any(r.filename == "refused.jpg" for r in records):
            raise Unavailable("vector index error: value too long for field filename")
        super().upsert(records)


def test_rows_are_written_with_their_fields_and_marked_indexed() -> None:
    index, states = InMemoryVectorIndex(), InMemoryJobStore()
    write = Write(index, InMemoryObjectStore(), states)
    written = write([row("a", dup_of="z")], BatchOutcome(states))
    assert [r.image_id for r in written] == ["a"]
    record = index.records["a"]
    assert (record.filename, record.width, record.taken_at, record.caption, record.phash) == (
        "a.jpg",
        40,
        7,
        "sea",
        "ab",
    )
    assert (record.dup_of, record.shot_of, list(record.tags)) == ("z", "", ["t"])
    assert states.state_of("a") == ImageState.indexed


def test_a_row_refused_while_the_index_answers_fails_alone() -> None:
    index, states = PickyIndex(), InMemoryJobStore()
    outcome = BatchOutcome(states)
    written = Write(index, InMemoryObjectStore(), states)(
        [row("a"), row("refused"), row("b")], outcome
    )
    assert [r.image_id for r in written] == ["a", "b"]
    assert list(outcome.failed) == ["refused"]
    assert states.state_of("refused") == ImageState.failed


def test_an_image_deleted_while_it_was_written_is_removed_again() -> None:
    index, store, states = InMemoryVectorIndex(), InMemoryObjectStore(), InMemoryJobStore()
    for key in derived_keys("gone"):
        store.put(key, b"x", "image/jpeg")
    states.mark_deleted(["gone"])
    written = Write(index, store, states)([row("kept"), row("gone")], BatchOutcome(states))
    assert [r.image_id for r in written] == ["kept"]
    assert set(index.records) == {"kept"}
    assert not any(key in store.objects for key in derived_keys("gone"))
    assert states.state_of("gone") == ImageState.deleted
