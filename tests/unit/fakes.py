"""In-memory stand-ins for the adapters, for unit tests only."""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from PIL import Image

from shared import keywords
from shared.embedding import Vectors
from shared.errors import NotFound
from shared.schemas import ImageState, JobItem, JobStatus
from shared.storage import ObjectInfo, StoredObject
from shared.vectors import ImageFilter, ImageRecord, SearchHit
from shared.webhooks.webhook import Event, Webhook


class InMemoryObjectStore:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str, dict[str, str]]] = {}
        self.opened: list[str] = []

    def ensure_bucket(self) -> None:
        pass

    def ping(self) -> None:
        pass

    def put(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        self.objects[key] = (data, content_type, dict(metadata or {}))

    def exists(self, key: str) -> bool:
        return key in self.objects

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)

    def set_metadata(self, key: str, metadata: dict[str, str]) -> None:
        if key not in self.objects:
            raise NotFound("object not found")
        data, content_type, old = self.objects[key]
        self.objects[key] = (data, content_type, {**old, **metadata})

    def list_keys(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def stat(self, key: str) -> ObjectInfo:
        if key not in self.objects:
            raise NotFound("object not found")
        data, content_type, metadata = self.objects[key]
        return ObjectInfo(key, len(data), content_type, metadata)

    def open(self, key: str, offset: int = 0, length: int | None = None) -> StoredObject:
        if key not in self.objects:
            raise NotFound("object not found")
        self.opened.append(key)
        data, content_type, metadata = self.objects[key]
        data = data[offset : None if length is None else offset + length]
        chunks = iter([data[i : i + 4] for i in range(0, len(data), 4)])
        return StoredObject(key, len(data), content_type, chunks, lambda: None, metadata)


class RecordingQueue:
    def __init__(self, waiting: int = 0) -> None:
        self.tasks: list[tuple[list[str], str]] = []
        self.isolated: list[tuple[list[str], str]] = []
        self.fetches: list[tuple[list[tuple[str, str]], str, dict[str, object]]] = []
        self.enrich: list[list[str]] = []
        self.enrich_only: list[list[str]] = []
        self.waiting = waiting

    def depth(self) -> int:
        return self.waiting + len(self.tasks)

    def enqueue_index(self, image_ids: Sequence[str], job_id: str) -> None:
        self.tasks.append((list(image_ids), job_id))

    def enqueue_isolated(self, image_ids: Sequence[str], job_id: str) -> None:
        self.isolated.append((list(image_ids), job_id))

    def enqueue_fetch(
        self, items: Sequence[tuple[str, str]], job_id: str, details: dict[str, object]
    ) -> None:
        self.fetches.append((list(items), job_id, details))

    def enqueue_enrich(self, image_ids: Sequence[str], only: Sequence[str] = ()) -> None:
        self.enrich.append(list(image_ids))
        self.enrich_only.append(list(only))


class InMemoryJobStore:
    def __init__(self) -> None:
        self.jobs: dict[str, list[tuple[str, str]]] = {}
        self.states: dict[str, tuple[ImageState, str | None]] = {}
        self.since: dict[str, float] = {}
        self.claims: list[str] = []
        self.fetch_slots: dict[str, tuple[ImageState, str | None, str | None]] = {}
        self.deliveries: dict[str, int] = {}
        self.enrich_pending: set[str] = set()
        self.enrich_since: dict[str, float] = {}

    def ping(self) -> None:
        pass

    def add_to_enrich(self, image_ids: Sequence[str]) -> None:
        for image_id in image_ids:
            self.enrich_since.setdefault(image_id, time.time())
        self.enrich_pending.update(image_ids)

    def enrich_finished(self, image_ids: Sequence[str]) -> None:
        self.enrich_pending.difference_update(image_ids)
        for image_id in image_ids:
            self.enrich_since.pop(image_id, None)

    def enrich_backlog(self) -> int:
        return len(self.enrich_pending)

    def enrich_queued_since(self, image_ids: Sequence[str]) -> dict[str, float]:
        return {i: self.enrich_since[i] for i in image_ids if i in self.enrich_since}

    def create_job(self, job_id: str, items: Sequence[tuple[str, str]]) -> None:
        self.jobs[job_id] = list(items)

    def add_fetches(self, job_id: str, urls: Sequence[str]) -> list[str]:
        slots = [f"fetch:{job_id}:{n}" for n in range(len(urls))]
        self.fetch_slots.update({slot: (ImageState.queued, None, None) for slot in slots})
        return slots

    def set_fetch(
        self,
        slot: str,
        state: ImageState,
        reason: str | None = None,
        image_id: str | None = None,
    ) -> None:
        self.fetch_slots[slot] = (state, reason, image_id)

    def set_state(self, image_id: str, state: ImageState, reason: str | None = None) -> bool:
        if self.state_of(image_id) == ImageState.deleted:
            return False
        self.states[image_id] = (state, reason)
        self.since[image_id] = time.time()
        return True

    def set_states(self, image_ids: Sequence[str], state: ImageState) -> None:
        for image_id in image_ids:
            self.set_state(image_id, state)

    def set_stored(self, image_id: str) -> None:
        self.states[image_id] = (ImageState.stored, None)
        self.since[image_id] = time.time()

    def mark_deleted(self, image_ids: Sequence[str], finished: bool = True) -> None:
        for image_id in image_ids:
            self.states[image_id] = (ImageState.deleted, None if finished else "deleting")
            self.since[image_id] = time.time()

    def unfinished_deletes(self, image_ids: Sequence[str]) -> set[str]:
        return {i for i in image_ids if self.states.get(i) == (ImageState.deleted, "deleting")}

    def deleted_among(self, image_ids: Sequence[str]) -> set[str]:
        return {i for i in image_ids if self.state_of(i) == ImageState.deleted}

    def state_counts(self) -> dict[ImageState, int]:
        counted = set(ImageState) - {ImageState.indexed, ImageState.deleted}
        return {s: sum(v[0] == s for v in self.states.values()) for s in counted}

    def state_of(self, image_id: str) -> ImageState | None:
        return self.state_and_reason(image_id)[0]

    def states_of(self, image_ids: Sequence[str]) -> dict[str, ImageState]:
        return {i: self.states[i][0] for i in image_ids if i in self.states}

    @contextmanager
    def claim(self, image_id: str) -> Iterator[None]:
        self.claims.append(image_id)
        yield

    def state_and_reason(self, image_id: str) -> tuple[ImageState | None, str | None]:
        return self.states.get(image_id, (None, None))

    def progress_of(self, image_ids: Sequence[str]) -> dict[str, tuple[ImageState, float]]:
        return {
            i: (self.states[i][0], self.since.get(i, 0.0)) for i in image_ids if i in self.states
        }

    def start_delivery(self, task_id: str) -> int:
        self.deliveries[task_id] = self.deliveries.get(task_id, 0) + 1
        return self.deliveries[task_id] - 1

    def end_delivery(self, task_id: str) -> None:
        self.deliveries.pop(task_id, None)

    def get_job(self, job_id: str) -> JobStatus | None:
        if job_id not in self.jobs:
            return None
        items = [
            JobItem(
                id=i,
                filename=n,
                state=self.states.get(i, (ImageState.queued, None))[0],
                reason=self.states.get(i, (ImageState.queued, None))[1],
            )
            for i, n in self.jobs[job_id]
        ]
        return JobStatus.of(job_id, items)


class ColourEmbedder:
    """Embeds an image as its mean colour and a text by the colour words it names."""

    model_id = "fake-colour"
    dim = 3
    device = "cpu"
    WORDS = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0)}

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.text_calls = 0

    def info(self) -> dict[str, object]:
        return {"model": self.model_id, "dim": self.dim, "device": self.device, "dtype": "fp32"}

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        self.calls.append(len(images))
        rows = [
            np.asarray(img.convert("RGB"), dtype=np.float32).mean(axis=(0, 1)) for img in images
        ]
        return _normalize(np.stack(rows))

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        self.text_calls += 1
        rows = [
            np.sum([self.WORDS.get(w, (0.1, 0.1, 0.1)) for w in t.split()], axis=0) for t in texts
        ]
        return _normalize(np.asarray(rows, dtype=np.float32))


def _normalize(rows: Vectors) -> Vectors:
    normalized: Vectors = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return normalized


class InMemoryVectorIndex:
    """Milvus as the adapter promises it; the keyword side scores each index word of the query
    found in an image's document by its repeats (Milvus: BM25)."""

    collection = "fake"
    has_keywords = True

    def ping(self) -> None:
        pass

    def __init__(self) -> None:
        self.records: dict[str, ImageRecord] = {}

    def ensure_collection(self) -> None:
        pass

    def activate(self) -> None:
        self.live = True

    def upsert(self, records: Sequence[ImageRecord]) -> None:
        self.records.update({r.id: r for r in records})

    def delete(self, image_ids: Sequence[str]) -> None:
        for image_id in image_ids:
            self.records.pop(image_id, None)

    def search(
        self,
        vector: Sequence[float],
        limit: int,
        where: ImageFilter | None = None,
        min_score: float | None = None,
    ) -> list[SearchHit]:
        scored = [
            SearchHit(r.id, float(np.dot(vector, r.vector)), _fields(r))
            for r in self.records.values()
            if where is None or _keeps(where, r)
        ]
        kept = [h for h in scored if min_score is None or h.score > min_score]
        return sorted(kept, key=lambda h: -h.score)[:limit]

    def keyword_search(
        self,
        tokens: Sequence[str],
        limit: int,
        where: ImageFilter | None = None,
        with_vectors: bool = False,
    ) -> list[SearchHit]:
        if not self.has_keywords:
            return []
        scored = []
        for r in self.records.values():
            document = keywords.document(_fields(r))
            held = set(document.split())
            score = float(sum(1 for t in tokens if t in held))
            if score and (where is None or _keeps(where, r)):
                vector = list(r.vector) if with_vectors else None
                scored.append(SearchHit(r.id, score, {**_fields(r), "keywords": document}, vector))
        return sorted(scored, key=lambda h: (-h.score, h.id))[:limit]

    def nearest(
        self, vectors: Sequence[Sequence[float]], limit: int, min_score: float
    ) -> list[list[SearchHit]]:
        return [self.search(v, limit, min_score=min_score) for v in vectors]

    def vectors_of(self, image_ids: Sequence[str]) -> dict[str, list[float]]:
        held = [i for i in image_ids if i in self.records]
        return {i: [float(x) for x in self.records[i].vector] for i in held}

    def vector_of(self, image_id: str) -> list[float] | None:
        record = self.records.get(image_id)
        return [float(x) for x in record.vector] if record else None

    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        return {
            i: {**_fields(self.records[i]), **self.records[i].extra}
            for i in image_ids
            if i in self.records
        }

    def details(self, image_id: str) -> dict[str, object] | None:
        record = self.records.get(image_id)
        return {"filename": record.filename, **record.extra} if record else None

    def rows(
        self, where: ImageFilter | None, fields: Sequence[str], limit: int
    ) -> list[dict[str, object]]:
        kept = [r for r in self.records.values() if where is None or _keeps(where, r)]
        return [
            {k: v for k, v in {**_fields(r), **r.extra}.items() if k in fields}
            for r in kept[:limit]
        ]

    def count(self) -> int:
        return len(self.records)


def _keeps(where: ImageFilter, r: ImageRecord) -> bool:
    """The filter as Milvus applies it (shared.vectors.milvus_filters)."""
    dated = where.taken_from is not None or where.taken_to is not None
    tags = set(r.tags)
    wanted = set(where.tags)
    listed = r.extra.get("auto_tags")
    auto_tags, wanted_auto = set(listed if isinstance(listed, list) else []), set(where.auto_tags)
    return all(
        [
            not dated or r.taken_at is not None,
            where.taken_from is None or (r.taken_at or 0) >= where.taken_from,
            where.taken_to is None or (r.taken_at or 0) <= where.taken_to,
            where.created_from is None or r.created_at >= where.created_from,
            where.created_to is None or r.created_at <= where.created_to,
            not wanted or (wanted <= tags if where.tags_mode == "all" else bool(wanted & tags)),
            not wanted_auto
            or (
                wanted_auto <= auto_tags
                if where.tags_mode == "all"
                else bool(wanted_auto & auto_tags)
            ),
            not where.content_types or r.content_type in where.content_types,
            where.min_width is None or r.width >= where.min_width,
            where.min_height is None or r.height >= where.min_height,
            where.source is None or r.source == where.source,
            where.place is None
            or where.place
            in [r.extra.get(k) for k in ("city", "region", "country", "country_code")],
            r.id not in where.exclude_ids,
        ]
    )


def _fields(record: ImageRecord) -> dict[str, object]:
    return {
        "filename": record.filename,
        "content_type": record.content_type,
        "width": record.width,
        "height": record.height,
        "created_at": record.created_at,
        "taken_at": record.taken_at,
        "camera": record.camera,
        "caption": record.caption,
        "tags": list(record.tags),
        "phash": record.phash,
        "dup_of": record.dup_of,
        "shot_of": record.shot_of,
    }


class RowsIndex:
    """Rows read and rewritten whole (shared.vectors.LiveIndex.row and update)."""

    def __init__(self, rows: dict[str, dict[str, object]]) -> None:
        self.rows = rows

    def row(self, image_id: str) -> dict[str, object] | None:
        return dict(self.rows[image_id]) if image_id in self.rows else None

    def update(self, image_id: str, changes: dict[str, object]) -> dict[str, object] | None:
        if image_id not in self.rows:
            return None
        self.rows[image_id] = {**self.rows[image_id], **changes}
        return self.rows[image_id]


class RecordingDeliveries:
    """The delivery queue's publishing side: what was queued, and how many wait per hook."""

    def __init__(self, waiting: dict[str, int] | None = None) -> None:
        self.waiting = dict(waiting or {})
        self.queued: list[tuple[str, Event]] = []

    def pending(self, hook_ids: Sequence[str]) -> dict[str, int]:
        return {h: self.waiting.get(h, 0) for h in hook_ids}

    def enqueue(self, pairs: Sequence[tuple[Webhook, Event]], now: float) -> list[object]:
        self.queued += [(hook.id, event) for hook, event in pairs]
        return list(pairs)
