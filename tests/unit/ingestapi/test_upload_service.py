import io
import json
import time
import zipfile
from collections.abc import Sequence

import pytest

from ingestapi.service import (
    ImageStatusService,
    IncomingFile,
    JobService,
    KnownImagesService,
    UploadService,
)
from ingestapi.settings import IngestSettings
from ingestapi.upload_limits import UploadLimits
from shared.config import Limit
from shared.errors import BadRequest, NotFound, QueueFull, Unavailable, Unprocessable
from shared.ids import content_id, details_key, original_key
from shared.intake import Intake
from shared.schemas import ImageState, UploadDetails, UploadStatus
from shared.state import STORED_GRACE_S
from shared.vectors import ImageRecord
from tests.support.images import image_bytes
from tests.unit.fakes import (
    InMemoryJobStore,
    InMemoryObjectStore,
    InMemoryVectorIndex,
    RecordingQueue,
)

Parts = tuple[InMemoryObjectStore, RecordingQueue, InMemoryJobStore]


@pytest.fixture
def parts() -> Parts:
    return InMemoryObjectStore(), RecordingQueue(), InMemoryJobStore()


def service(parts: Parts, **kw: int) -> UploadService:
    store, queue, jobs = parts
    settings = IngestSettings(**kw)
    max_bytes = Limit(settings.max_bytes, "ingest.max_bytes")
    max_pixels = Limit(settings.max_pixels, "ingest.max_pixels")
    intake = Intake(store, jobs, InMemoryVectorIndex(), max_bytes, max_pixels)
    return UploadService(intake, queue, jobs, settings, UploadLimits.of(settings))


def test_accepted_files_are_stored_then_queued(parts: Parts) -> None:
    store, queue, jobs = parts
    red, blue = image_bytes("red"), image_bytes("blue")
    result = service(parts).upload(
        [IncomingFile.of("red.png", red), IncomingFile.of("blue.png", blue)]
    )
    assert [i.status for i in result.items] == [UploadStatus.accepted] * 2
    assert [i.id for i in result.items] == [content_id(red), content_id(blue)]
    assert store.objects[original_key(content_id(red))][0] == red
    assert store.objects[original_key(content_id(red))][1] == "image/png"
    assert store.objects[original_key(content_id(red))][2]["filename"] == "red.png"
    assert queue.tasks == [([content_id(red), content_id(blue)], result.job_id)]
    assert jobs.state_of(content_id(red)) == ImageState.queued


def test_bad_file_is_rejected_alone(parts: Parts) -> None:
    store, queue, _ = parts
    files = [
        IncomingFile.of("good.png", image_bytes()),
        IncomingFile.of("empty.png", b""),
        IncomingFile.of("notes.jpg", b"plain text"),
        IncomingFile.of("huge.png", image_bytes(size=(400, 400))),
    ]
    limit = len(image_bytes()) + 10
    result = service(parts, max_bytes=limit).upload(files)
    by_name = {i.filename: i for i in result.items}
    assert by_name["good.png"].status == UploadStatus.accepted
    assert (by_name["empty.png"].status, by_name["empty.png"].http_status) == ("rejected", 400)
    assert by_name["notes.jpg"].http_status == 415
    assert by_name["huge.png"].http_status == 413
    assert all(by_name[n].reason for n in ["empty.png", "notes.jpg", "huge.png"])
    assert [k for k in store.objects if k.startswith("originals/")] == [
        original_key(by_name["good.png"].id or "")
    ]
    assert queue.tasks == [([content_id(image_bytes())], result.job_id)]


def test_same_bytes_twice_is_a_duplicate_with_the_same_id(parts: Parts) -> None:
    _, queue, _ = parts
    svc = service(parts)
    first = svc.upload([IncomingFile.of("a.png", image_bytes())])
    again = svc.upload([IncomingFile.of("copy-of-a.png", image_bytes())])
    assert again.items[0].status == UploadStatus.duplicate
    assert again.items[0].id == first.items[0].id
    assert len(queue.tasks) == 1


def test_stored_but_failed_image_is_queued_again(parts: Parts) -> None:
    _, queue, jobs = parts
    svc = service(parts)
    first = svc.upload([IncomingFile.of("a.png", image_bytes())])
    jobs.set_state(first.items[0].id or "", ImageState.failed, "boom")
    again = svc.upload([IncomingFile.of("a.png", image_bytes())])
    assert again.items[0].status == UploadStatus.accepted
    assert len(queue.tasks) == 2


def test_tasks_carry_at_most_task_batch_size_ids(parts: Parts) -> None:
    _, queue, _ = parts
    files = [IncomingFile.of(f"{i}.png", image_bytes((i, 0, 0))) for i in range(5)]
    service(parts, task_batch_size=2).upload(files)
    assert [len(ids) for ids, _ in queue.tasks] == [2, 2, 1]


def test_all_rejected_creates_no_job(parts: Parts) -> None:
    result = service(parts).upload([IncomingFile.of("x.txt", b"text")])
    assert result.job_id is None
    assert result.items[0].job_id is None


def test_no_files_is_a_bad_request(parts: Parts) -> None:
    with pytest.raises(BadRequest):
        service(parts).upload([])


def test_unknown_job_is_not_found() -> None:
    with pytest.raises(NotFound):
        JobService(InMemoryJobStore()).get("nope")


def test_a_full_queue_refuses_the_upload_before_storing_anything() -> None:
    parts = InMemoryObjectStore(), RecordingQueue(waiting=11), InMemoryJobStore()
    store, queue, _ = parts
    svc = service(parts, max_queue=10)
    with pytest.raises(QueueFull) as exc:
        svc.upload([IncomingFile.of("a.png", image_bytes())])
    assert exc.value.status_code == 503
    assert exc.value.retry_after_s > 0
    assert store.objects == {}
    assert queue.tasks == []


def status_service(parts: Parts) -> tuple[ImageStatusService, InMemoryVectorIndex]:
    store, _, jobs = parts
    index = InMemoryVectorIndex()
    return ImageStatusService(store, jobs, index), index


def test_image_status_follows_the_image_from_stored_to_indexed(parts: Parts) -> None:
    store, _, jobs = parts
    data = image_bytes()
    image_id = content_id(data)
    statuses, index = status_service(parts)
    with pytest.raises(NotFound):
        statuses.get(image_id)
    store.put(original_key(image_id), data, "image/png")
    assert statuses.get(image_id).state == "stored"  # accepted, its task lost: reconcile's job
    jobs.set_state(image_id, ImageState.queued)
    assert statuses.get(image_id).state == "queued"
    jobs.set_state(image_id, ImageState.failed, "corrupt")
    assert (statuses.get(image_id).state, statuses.get(image_id).reason) == ("failed", "corrupt")
    index.upsert([ImageRecord(image_id, [1.0, 0.0, 0.0], "a.png", "image/png", 64, 48, 9, 0)])
    indexed = statuses.get(image_id)
    assert indexed.state == "indexed"
    assert indexed.metadata == {"filename": "a.png"}


class RowBeingRewritten:
    """An index whose upsert is a delete then an insert: the first read misses the row."""

    def __init__(self, row: dict[str, object]) -> None:
        self.reads = 0
        self._row = row

    def details(self, image_id: str) -> dict[str, object] | None:
        self.reads += 1
        return self._row if self.reads > 1 else None


def test_an_indexed_image_read_while_its_row_is_rewritten_is_still_indexed(parts: Parts) -> None:
    store, _, jobs = parts
    data = image_bytes()
    image_id = content_id(data)
    store.put(original_key(image_id), data, "image/png")
    jobs.set_state(image_id, ImageState.indexed)
    index = RowBeingRewritten({"filename": "a.png", "place_state": "done"})
    status = ImageStatusService(store, jobs, index).get(image_id)
    assert (status.state, index.reads) == ("indexed", 2)
    assert status.enrichment is not None


def test_an_image_not_yet_indexed_is_read_from_the_index_once(parts: Parts) -> None:
    store, _, jobs = parts
    data = image_bytes()
    image_id = content_id(data)
    jobs.set_state(image_id, ImageState.processing)
    index = RowBeingRewritten({"filename": "a.png"})
    assert ImageStatusService(store, jobs, index).get(image_id).state == "processing"
    assert index.reads == 1


def test_a_malformed_id_is_not_found(parts: Parts) -> None:
    statuses, _ = status_service(parts)
    with pytest.raises(NotFound):
        statuses.get("../../etc/passwd")


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_zip_is_taken_member_by_member_and_path_tricks_are_refused(parts: Parts) -> None:
    store, queue, _ = parts
    archive = zipped(
        {
            "holiday/red.png": image_bytes("red"),
            "../../etc/evil.png": image_bytes("blue"),
            "/abs.png": image_bytes("green"),
            "notes.txt": b"not an image",
            "inner.zip": zipped({"x.png": image_bytes()}),
            "__MACOSX/._red.png": b"resource fork",
        }
    )
    result = service(parts).upload([IncomingFile.of("photos.zip", archive)])
    by_name = {i.filename: i for i in result.items}
    assert by_name["photos.zip/holiday/red.png"].status == UploadStatus.accepted
    assert by_name["photos.zip/../../etc/evil.png"].http_status == 400
    assert "unsafe path" in (by_name["photos.zip/../../etc/evil.png"].reason or "")
    assert by_name["photos.zip//abs.png"].http_status == 400
    assert by_name["photos.zip/notes.txt"].http_status == 415
    assert "inside archives" in (by_name["photos.zip/inner.zip"].reason or "")
    assert len(result.items) == 5  # the macOS resource fork is skipped
    assert [k for k in store.objects if k.startswith("originals/")] == [
        original_key(content_id(image_bytes("red")))
    ]
    assert len(queue.tasks) == 1


def test_a_zip_bomb_member_is_refused_by_what_it_expands_to(parts: Parts) -> None:
    bomb = zipped({"bomb.bmp": b"BM" + bytes(5_000_000)})
    assert len(bomb) < 10_000
    result = service(parts, max_bytes=1_000_000).upload([IncomingFile.of("b.zip", bomb)])
    assert result.items[0].http_status == 413


def test_a_file_cut_off_while_streaming_is_rejected_alone(parts: Parts) -> None:
    files = [
        IncomingFile("big.zip", io.BytesIO, over_limit=Limit(100, "ingest.max_archive_bytes")),
        IncomingFile.of("ok.png", image_bytes()),
    ]
    result = service(parts).upload(files)
    assert [(i.status, i.http_status) for i in result.items] == [
        (UploadStatus.rejected, 413),
        (UploadStatus.accepted, 202),
    ]
    # the limit the reader cut it off at, named by its key
    assert result.items[0].reason == "larger than 100 bytes (ingest.max_archive_bytes)"


def test_caption_tags_and_source_are_stored_with_the_original(parts: Parts) -> None:
    store, _, jobs = parts
    details = UploadDetails(caption="Our dog", tags=["dog, park", "dog"], source="phone")
    result = service(parts).upload([IncomingFile.of("a.png", image_bytes())], details)
    image_id = result.items[0].id or ""
    meta = store.objects[original_key(image_id)][2]
    assert (meta["filename"], meta["source"]) == ("a.png", "phone")
    assert json.loads(store.objects[details_key(image_id)][0]) == {
        "caption": "Our dog",
        "tags": ["dog", "park"],
    }
    assert jobs.claims == [image_id]  # decided under the content's claim


def test_a_long_or_non_ascii_name_never_goes_into_an_s3_header(parts: Parts) -> None:
    store = parts[0]
    names = ["Été à Paris 🌅.png", "x" * 5000 + ".png", "tab\there.png"]
    files = [
        IncomingFile.of(n, image_bytes((n.count("x") % 250, i, 0))) for i, n in enumerate(names)
    ]
    result = service(parts).upload(files)
    for name, item in zip(names, result.items, strict=True):
        assert item.status == UploadStatus.accepted
        image_id = item.id or ""
        assert "filename" not in store.objects[original_key(image_id)][2]
        assert json.loads(store.objects[details_key(image_id)][0])["filename"] == name


def test_known_ids_are_those_indexed_or_on_their_way(parts: Parts) -> None:
    _, _, jobs = parts
    index = InMemoryVectorIndex()
    indexed, queued, failed, unknown = (content_id(bytes([i])) for i in range(4))
    index.upsert([ImageRecord(indexed, [1.0, 0.0, 0.0], "a", "image/png", 1, 1, 1, 0)])
    jobs.set_state(queued, ImageState.queued)
    jobs.set_state(failed, ImageState.failed, "bad")
    known = KnownImagesService(jobs, index).known([unknown, failed, queued, indexed, indexed])
    assert known == [queued, indexed]


class BreaksAfter(InMemoryObjectStore):
    """Stores `good` originals, then storage goes down."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    def put(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        if key.startswith("originals/"):
            if self.good == 0:
                raise Unavailable("object storage unreachable")
            self.good -= 1
        super().put(key, data, content_type, metadata)


def test_a_request_broken_part_way_still_queues_what_it_stored() -> None:
    store, queue, jobs = BreaksAfter(good=2), RecordingQueue(), InMemoryJobStore()
    files = [IncomingFile.of(f"{c}.png", image_bytes(c)) for c in ("red", "green", "blue")]
    with pytest.raises(Unavailable):
        service((store, queue, jobs)).upload(files)
    stored = [content_id(image_bytes(c)) for c in ("red", "green")]
    assert [batch for batch, _ in queue.tasks] == [stored]
    assert [jobs.state_of(i) for i in stored] == [ImageState.queued] * 2


class RefusingQueue(RecordingQueue):
    def enqueue_index(self, image_ids: Sequence[str], job_id: str) -> None:
        raise Unavailable("task queue unreachable")


def test_an_image_stored_but_never_queued_is_not_a_duplicate_past_the_grace() -> None:
    store, jobs = InMemoryObjectStore(), InMemoryJobStore()
    data = image_bytes("red")
    with pytest.raises(Unavailable):
        service((store, RefusingQueue(), jobs)).upload([IncomingFile.of("a.png", data)])
    image_id = content_id(data)
    assert jobs.state_of(image_id) == ImageState.stored  # stored, not queued: nothing has it
    queue = RecordingQueue()
    again = service((store, queue, jobs)).upload([IncomingFile.of("a.png", data)])
    assert again.items[0].status == UploadStatus.duplicate  # within the grace: its request...
    jobs.since[image_id] = time.time() - STORED_GRACE_S - 1  # ...is gone by now
    later = service((store, queue, jobs)).upload([IncomingFile.of("a.png", data)])
    assert later.items[0].status == UploadStatus.accepted
    assert queue.tasks[-1][0] == [image_id]
    known = KnownImagesService(jobs, InMemoryVectorIndex())
    jobs.set_state(image_id, ImageState.stored)
    jobs.since[image_id] = time.time() - STORED_GRACE_S - 1
    assert known.known([image_id]) == []


class RefusesLongKeys(InMemoryObjectStore):
    def put(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        if key.startswith("originals/") and data.startswith(b"\x89PNG") and len(data) > 200:
            raise Unprocessable("object storage refused this file: EntityTooLarge")
        super().put(key, data, content_type, metadata)


def test_a_storage_refusal_of_one_file_rejects_that_file_only() -> None:
    store, queue, jobs = RefusesLongKeys(), RecordingQueue(), InMemoryJobStore()
    files = [
        IncomingFile.of("big.png", image_bytes("red", size=(300, 300))),
        IncomingFile.of("small.jpg", image_bytes("blue", fmt="JPEG")),
    ]
    result = service((store, queue, jobs)).upload(files)
    assert [(i.status, i.http_status) for i in result.items] == [
        (UploadStatus.rejected, 422),
        (UploadStatus.accepted, 202),
    ]
    assert result.items[0].reason == "object storage refused this file: EntityTooLarge"


class FillsUp(RecordingQueue):
    """Other requests fill the queue while this one is being taken."""

    def __init__(self, full_after_looks: int) -> None:
        super().__init__()
        self.looks = 0
        self.full_after_looks = full_after_looks

    def depth(self) -> int:
        self.looks += 1
        return 10**6 if self.looks > self.full_after_looks else super().depth()


def test_the_queue_is_looked_at_again_while_a_request_is_taken() -> None:
    queue = FillsUp(full_after_looks=1)  # empty at the start, full at the next look
    parts = InMemoryObjectStore(), queue, InMemoryJobStore()
    files = [IncomingFile.of(f"{i}.png", image_bytes((i, 9, 9))) for i in range(70)]
    result = service(parts, max_queue=100).upload(files)
    statuses = [i.status for i in result.items]
    assert statuses == [UploadStatus.accepted] * 64 + [UploadStatus.rejected] * 6
    assert {i.http_status for i in result.items[64:]} == {503}
    assert "indexing tasks are waiting" in (result.items[64].reason or "")
    assert len(result.items) == len(files)


def test_past_max_queue_the_rest_of_a_request_stays_stored_for_reconcile() -> None:
    queue = FillsUp(full_after_looks=2)  # full after the upload's first two looks
    parts = InMemoryObjectStore(), queue, InMemoryJobStore()
    files = [IncomingFile.of(f"{i}.png", image_bytes((i, 5, 5))) for i in range(20)]
    result = service(parts, max_queue=100, task_batch_size=1).upload(files)
    assert all(i.status == UploadStatus.accepted for i in result.items)
    queued = [image_id for ids, _ in queue.tasks for image_id in ids]
    assert len(queued) < len(files)  # the queue filled up: the rest waits, stored
    _, _, jobs = parts
    left = [i.id for i in result.items if i.id not in queued]
    assert left and all(
        jobs.state_of(image_id) == ImageState.stored for image_id in left if image_id
    )


def zip_of(count: int, tag: int = 0) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(count):
            archive.writestr(f"m{i}.png", image_bytes((i, tag, 77)))
    return out.getvalue()


def test_files_and_zip_members_share_one_budget_per_request(parts: Parts) -> None:
    files = [IncomingFile.of(f"{i}.png", image_bytes((i, 1, 2))) for i in range(3)]
    files += [IncomingFile.of("two.zip", zip_of(2)), IncomingFile.of("three.zip", zip_of(3, 1))]
    result = service(parts, max_files=5).upload(files)
    assert [i.status for i in result.items] == [UploadStatus.accepted] * 5 + [UploadStatus.rejected]
    assert result.items[-1].filename == "three.zip"
    assert result.items[-1].http_status == 413
    assert "left of ingest.max_files" in (result.items[-1].reason or "")
