"""Indexing: original → decoded image → thumbnail and preview, CLIP vector (one batch) →
Milvus row → state."""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.embedding import Embedder
from shared.errors import NotFound, Unprocessable, UnsupportedMediaType
from shared.ids import details_key, original_key
from shared.images import PREVIEW_PX, THUMBNAIL_PX, DecodedImage, decode_image, store_derived
from shared.log import get_logger
from shared.schemas import ImageState
from shared.state import ImageStates
from shared.storage import ObjectStore
from shared.vectors import ImageRecord, VectorIndex

log = get_logger(__name__)


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


@dataclass(frozen=True)
class IndexReport:
    indexed: list[str]
    failed: dict[str, str]
    embed_s: float = 0.0


class IndexPipeline:
    def __init__(
        self,
        store: ObjectStore,
        index: VectorIndex,
        embedder: Embedder,
        jobs: ImageStates,
        thumbnail_px: int = THUMBNAIL_PX,
        preview_px: int = PREVIEW_PX,
    ) -> None:
        self._store = store
        self._index = index
        self._embedder = embedder
        self._jobs = jobs
        self._thumbnail_px = thumbnail_px
        self._preview_px = preview_px

    def run(self, image_ids: Sequence[str]) -> IndexReport:
        """Index a batch. Bad images fail alone; a backing-service outage raises for a retry."""
        started = time.perf_counter()
        loaded: list[_Loaded] = []
        failed: dict[str, str] = {}
        for image_id in dict.fromkeys(image_ids):
            self._jobs.set_state(image_id, ImageState.processing)
            try:
                item = self._load(image_id)
                self._derive(item)
                loaded.append(item)
            except (NotFound, UnsupportedMediaType, Unprocessable) as exc:
                failed[image_id] = exc.detail
                self._jobs.set_state(image_id, ImageState.failed, exc.detail)
        loaded_at = embedded_at = time.perf_counter()
        if loaded:
            vectors = self._embedder.embed_images([item.decoded.image for item in loaded])
            embedded_at = time.perf_counter()
            self._index.upsert(
                [_record(item, vector) for item, vector in zip(loaded, vectors, strict=True)]
            )
            for item in loaded:
                self._jobs.set_state(item.image_id, ImageState.indexed)
        done_at = time.perf_counter()
        log.info(
            "batch_indexed",
            indexed=len(loaded),
            failed=len(failed),
            load_ms=_ms(loaded_at - started),
            embed_ms=_ms(embedded_at - loaded_at),
            store_ms=_ms(done_at - embedded_at),
            took_ms=_ms(done_at - started),
        )
        return IndexReport(
            indexed=[item.image_id for item in loaded],
            failed=failed,
            embed_s=embedded_at - loaded_at,
        )

    def _load(self, image_id: str) -> _Loaded:
        obj = self._store.open(original_key(image_id))
        data = obj.read()
        if not data:
            raise NotFound("original is empty or missing")
        decoded = decode_image(data, long_side=self._preview_px)
        details = self._details(image_id) if obj.metadata.get("details") else {}
        tags = details.get("tags")
        return _Loaded(
            image_id=image_id,
            decoded=decoded,
            size=len(data),
            filename=obj.metadata.get("filename", ""),
            created_at=_epoch(obj.metadata.get("uploaded-at")),
            source=obj.metadata.get("source", ""),
            caption=str(details.get("caption", "")),
            tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        )

    def _derive(self, item: _Loaded) -> None:
        """The thumbnail and preview cdnapi serves, from the decode made for the model."""
        image = item.decoded.image
        store_derived(self._store, item.image_id, image, self._thumbnail_px, self._preview_px)

    def _details(self, image_id: str) -> dict[str, object]:
        try:
            parsed = json.loads(self._store.open(details_key(image_id)).read())
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _record(item: _Loaded, vector: Sequence[float]) -> ImageRecord:
    return ImageRecord(
        id=item.image_id,
        vector=vector,
        filename=item.filename[:1024],
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
    )


def _epoch(iso: str | None) -> int:
    try:
        return int(datetime.fromisoformat(iso).timestamp()) if iso else int(time.time())
    except ValueError:
        return int(time.time())
