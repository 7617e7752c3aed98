"""Indexing: original → decoded image → thumbnail and preview, CLIP vector (one forward pass per
chunk of batch_size) → Milvus row → state.

Three stages overlap, as rclip's loader thread does: threads fetch, decode and derive the next
chunks while the model runs on this one, and one thread writes the finished chunk's rows and
states. On a CPU the model is most of the cost; everything else hides behind it only if it
never waits its turn."""

import contextvars
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from PIL import Image

from ingestworker.service.duplicates import DuplicateFiler, NewImage
from shared.embedding import Embedder
from shared.errors import NotFound, Unavailable, reason_of
from shared.ids import derived_keys, details_key, original_key
from shared.images import (
    PREVIEW_PX,
    THUMBNAIL_PX,
    DecodedImage,
    decode_image,
    reduced,
    store_derived,
)
from shared.images.matching import Features, features
from shared.library.duplicates import DuplicateSettings, Fingerprint, perceptual_hash
from shared.log import get_logger
from shared.schemas import ImageState
from shared.state import ImageStates
from shared.storage import ObjectStore
from shared.telemetry import tracer
from shared.vectors import ImageRecord, IndexSwitched, VectorIndex

log = get_logger(__name__)
_tracer = tracer(__name__)


@dataclass(frozen=True)
class _Loaded:
    image_id: str
    decoded: DecodedImage
    size: int
    filename: str
    created_at: int
    source: str
    caption: str
    tags: list[str]
    # fingerprints for duplicates, from the thumbnail (cheap, and what a later image that may
    # be a copy of this one reads back from storage)
    phash: str = ""
    features: Features | None = None


_Embedded = tuple[_Loaded, Sequence[float]]
_Record = tuple[_Loaded, Sequence[float], dict[str, str]]
Decoder = Callable[..., DecodedImage]


@dataclass
class IndexReport:
    indexed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # what kind of error failed each image (its exception's class): a small set, for metrics
    failure_kinds: dict[str, str] = field(default_factory=dict)
    # busy time per stage: prepare is summed over its threads, so the stages can add up to
    # more than the wall time when they overlap
    prepare_s: float = 0.0
    embed_s: float = 0.0
    write_s: float = 0.0
    forward_passes: int = 0
    # how long the model waited for prepared images: the overlap's shortfall
    starved_s: float = 0.0


# chunks prepared ahead of the one in the model: enough to never wait, few enough that a
# batch holds at most this many chunks' model-size pixels
CHUNKS_AHEAD = 2


class IndexPipeline:
    def __init__(
        self,
        store: ObjectStore,
        index: VectorIndex,
        embedder: Embedder,
        jobs: ImageStates,
        thumbnail_px: int = THUMBNAIL_PX,
        preview_px: int = PREVIEW_PX,
        decode: Decoder = decode_image,
        batch_size: int = 32,
        prepare_threads: int = 2,
        duplicates: DuplicateSettings | None = None,
    ) -> None:
        self._store = store
        self._batch_size = batch_size
        self._prepare_threads = prepare_threads
        self._lock = threading.Lock()
        self._decode = decode
        self._index = index
        self._embedder = embedder
        self._jobs = jobs
        self._thumbnail_px = thumbnail_px
        self._preview_px = preview_px
        self._filer = DuplicateFiler(index, store, duplicates or DuplicateSettings())

    def run(self, image_ids: Sequence[str]) -> IndexReport:
        """Index a batch. Whatever goes wrong with one image fails that image alone, with the
        reason; an outage of storage, Redis or Milvus raises Unavailable for a retry."""
        started = time.perf_counter()
        ids = list(dict.fromkeys(image_ids))
        chunks = [ids[i : i + self._batch_size] for i in range(0, len(ids), self._batch_size)]
        report = IndexReport()
        prepare = ThreadPoolExecutor(self._prepare_threads, thread_name_prefix="prepare")
        writer = ThreadPoolExecutor(1, thread_name_prefix="write")
        try:
            ahead = deque(self._submit(prepare, chunk, report) for chunk in chunks[:CHUNKS_AHEAD])
            writes: list[Future[list[_Loaded]]] = []
            for n in range(len(chunks)):
                waited_at = time.perf_counter()
                loaded = [item for item in (f.result() for f in ahead.popleft()) if item]
                report.starved_s += time.perf_counter() - waited_at
                if n + CHUNKS_AHEAD < len(chunks):
                    ahead.append(self._submit(prepare, chunks[n + CHUNKS_AHEAD], report))
                _raise_failed_write(writes)  # an index outage stops the batch before the model
                with _tracer.start_as_current_span("embed", attributes={"images": len(loaded)}):
                    embedded = self._timed_embed(loaded, report)
                run_in_context = contextvars.copy_context().run
                writes.append(writer.submit(run_in_context, self._write_and_mark, embedded, report))
            indexed = [item for write in writes for item in write.result()]
        finally:
            # an outage stops the batch: what is not started yet never starts
            prepare.shutdown(wait=True, cancel_futures=True)
            writer.shutdown(wait=True, cancel_futures=True)
        report.indexed = [item.image_id for item in indexed]
        log.info(
            "batch_indexed",
            indexed=len(indexed),
            failed=len(report.failed),
            forward_passes=report.forward_passes,
            prepare_ms=_ms(report.prepare_s),
            embed_ms=_ms(report.embed_s),
            write_ms=_ms(report.write_s),
            starved_ms=_ms(report.starved_s),
            took_ms=_ms(time.perf_counter() - started),
        )
        return report

    def _submit(
        self, pool: ThreadPoolExecutor, chunk: list[str], report: IndexReport
    ) -> list[Future[_Loaded | None]]:
        # each image's spans belong to the batch's trace: its context goes with it to the thread
        return [
            pool.submit(contextvars.copy_context().run, self._timed_prepare, image_id, report)
            for image_id in chunk
        ]

    def _timed_prepare(self, image_id: str, report: IndexReport) -> _Loaded | None:
        started = time.perf_counter()
        try:
            return self._prepare(image_id, report)
        finally:
            with self._lock:
                report.prepare_s += time.perf_counter() - started

    def _timed_embed(self, items: list[_Loaded], report: IndexReport) -> list[_Embedded]:
        started = time.perf_counter()
        embedded = self._embed(items, report)
        report.embed_s += time.perf_counter() - started
        return embedded

    def _write_and_mark(self, rows: list[_Embedded], report: IndexReport) -> list[_Loaded]:
        with _tracer.start_as_current_span("index_write", attributes={"images": len(rows)}):
            return self._timed_write(rows, report)

    def _timed_write(self, rows: list[_Embedded], report: IndexReport) -> list[_Loaded]:
        started = time.perf_counter()
        written = self._write(self._filed(rows), report) if rows else []
        gone = self._undo_deleted([item.image_id for item in written])
        indexed = [item for item in written if item.image_id not in gone]
        for item in indexed:
            self._jobs.set_state(item.image_id, ImageState.indexed)
        report.write_s += time.perf_counter() - started
        return indexed

    def _undo_deleted(self, image_ids: list[str]) -> set[str]:
        """Images deleted while this batch held them: the delete marked them before it removed
        their rows and copies, so looking after the write finds every one whose row or copies
        this batch may have written back, and removes them again."""
        gone = self._jobs.deleted_among(image_ids)
        if gone:
            self._index.delete(sorted(gone))
            self._store.delete([key for image_id in gone for key in derived_keys(image_id)])
            log.info("deleted_while_indexing", images=len(gone))
        return gone

    def _prepare(self, image_id: str, report: IndexReport) -> _Loaded | None:
        """Fetch, decode, read EXIF and details, write the smaller copies."""
        if not self._jobs.set_state(image_id, ImageState.processing):
            return None  # deleted since it was queued
        try:
            item = self._load(image_id)
            with _tracer.start_as_current_span("derive", attributes={"image_id": image_id}):
                thumbnail = self._derive(item)
                item = replace(item, phash=perceptual_hash(thumbnail), features=features(thumbnail))
        except Unavailable:
            raise
        except Exception as exc:  # anything about this one image: it fails, the batch goes on
            self._fail(image_id, exc, report)
            return None
        # past the copies, a batch holds only what the model reads: not 32 previews' pixels
        return replace(item, decoded=replace(item.decoded, image=reduced(item.decoded.image)))

    def _embed(self, items: list[_Loaded], report: IndexReport) -> list[_Embedded]:
        """One forward pass for the chunk; a chunk the model rejects is halved until each image
        it rejects is alone (and fails)."""
        if not items:
            return []
        try:
            report.forward_passes += 1
            vectors = self._embedder.embed_images([item.decoded.image for item in items])
            rows: list[Sequence[float]] = vectors.tolist()
            return list(zip(items, rows, strict=True))
        except Unavailable:
            raise
        except Exception as exc:
            if len(items) == 1:
                self._fail(items[0].image_id, exc, report)
                return []
            half = len(items) // 2
            return self._embed(items[:half], report) + self._embed(items[half:], report)

    def _filed(self, rows: list[_Embedded]) -> list[_Record]:
        """Each row with the duplicate groups it joins (shared.library.duplicates)."""
        new = [
            NewImage(
                item.image_id,
                vector,
                Fingerprint(item.phash, item.decoded.taken_at),
                item.features,
            )
            for item, vector in rows
        ]
        groups = self._filer.file(new)
        return [(item, vector, groups[item.image_id]) for item, vector in rows]

    def _write(self, rows: list[_Record], report: IndexReport) -> list[_Loaded]:
        """One index write for the batch; a write refused while the index answers is a data
        problem: halved until each refused row is alone (and fails)."""
        if not rows:
            return []
        try:
            self._index.upsert([_record(item, vector, groups) for item, vector, groups in rows])
            return [item for item, _, _ in rows]
        except IndexSwitched:
            raise
        except Exception as exc:
            if isinstance(exc, Unavailable) and not self._index_answers():
                raise
            if len(rows) == 1:
                self._fail(rows[0][0].image_id, exc, report)
                return []
            half = len(rows) // 2
            return self._write(rows[:half], report) + self._write(rows[half:], report)

    def _index_answers(self) -> bool:
        try:
            self._index.ping()
        except Unavailable:
            return False
        return True

    def _fail(self, image_id: str, exc: BaseException, report: IndexReport) -> None:
        reason = reason_of(exc)
        report.failed[image_id] = reason
        report.failure_kinds[image_id] = type(exc).__name__
        self._jobs.set_state(image_id, ImageState.failed, reason)
        log.warning("image_failed", image_id=image_id, reason=reason)

    def _load(self, image_id: str) -> _Loaded:
        with _tracer.start_as_current_span("fetch", attributes={"image_id": image_id}):
            obj = self._store.open(original_key(image_id))
            data = obj.read()
        if not data:
            raise NotFound("original is empty or missing")
        with _tracer.start_as_current_span("decode", attributes={"bytes": len(data)}):
            decoded = self._decode(data, long_side=self._preview_px)
        details = self._details(image_id) if obj.metadata.get("details") else {}
        tags = details.get("tags")
        return _Loaded(
            image_id=image_id,
            decoded=decoded,
            size=len(data),
            # originals stored by earlier versions carry name and source in their metadata
            filename=str(details.get("filename") or obj.metadata.get("filename", "")),
            created_at=_epoch(obj.metadata.get("uploaded-at")),
            source=str(details.get("source") or obj.metadata.get("source", "")),
            caption=str(details.get("caption", "")),
            tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        )

    def _derive(self, item: _Loaded) -> Image.Image:
        """The thumbnail and preview cdnapi serves, from the decode made for the model."""
        image = item.decoded.image
        return store_derived(
            self._store, item.image_id, image, self._thumbnail_px, self._preview_px
        )

    def _details(self, image_id: str) -> dict[str, object]:
        try:
            parsed = json.loads(self._store.open(details_key(image_id)).read())
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}


def _raise_failed_write(writes: list[Future[list[_Loaded]]]) -> None:
    for write in writes:
        if write.done() and (error := write.exception()) is not None:
            raise error


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _record(item: _Loaded, vector: Sequence[float], groups: dict[str, str]) -> ImageRecord:
    return ImageRecord(
        id=item.image_id,
        vector=vector,
        filename=item.filename,
        content_type=item.decoded.content_type,
        width=item.decoded.width,
        height=item.decoded.height,
        bytes=item.size,
        created_at=item.created_at,
        taken_at=item.decoded.taken_at,
        camera=item.decoded.camera,
        caption=item.caption,
        tags=item.tags,
        source=item.source,
        phash=item.phash,
        dup_of=groups["dup_of"],
        shot_of=groups["shot_of"],
    )


def _epoch(iso: str | None) -> int:
    try:
        return int(datetime.fromisoformat(iso).timestamp()) if iso else int(time.time())
    except ValueError:
        return int(time.time())
