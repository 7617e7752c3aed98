"""Prepare: an image's original fetched, decoded to the preview's size, its thumbnail and
preview written where cdnapi serves them, and fingerprinted for duplicates. Runs on the
prepare threads, ahead of the model."""

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from ingestworker.stages.batch import BatchOutcome, PreparedImage
from ingestworker.stages.near_duplicates import keypoints, perceptual_hash
from shared.details import HAS_DETAILS, read_details
from shared.enrichment import carried_facts
from shared.errors import NotFound, Unavailable
from shared.ids import original_key
from shared.images import PREVIEW_PX, THUMBNAIL_PX, DecodedImage, decode_image, reduced
from shared.images import store_derived as store_copies
from shared.schemas import ImageState
from shared.state import ImageStates
from shared.storage import ObjectStore
from shared.telemetry import tracer

_tracer = tracer(__name__)
Decoder = Callable[..., DecodedImage]


class Prepare:
    def __init__(
        self,
        store: ObjectStore,
        states: ImageStates,
        decode: Decoder = decode_image,
        thumbnail_px: int = THUMBNAIL_PX,
        preview_px: int = PREVIEW_PX,
    ) -> None:
        self._store = store
        self._states = states
        self._decode = decode
        self._thumbnail_px = thumbnail_px
        self._preview_px = preview_px

    def __call__(self, image_id: str, outcome: BatchOutcome) -> PreparedImage | None:
        """None when the image failed (recorded in ``outcome``) or was deleted since it was
        queued; an outage of storage or Redis raises Unavailable."""
        if not self._states.set_state(image_id, ImageState.processing):
            return None
        try:
            image = self._load(image_id)
            with _tracer.start_as_current_span("derive", attributes={"image_id": image_id}):
                thumbnail = store_copies(
                    self._store,
                    image_id,
                    image.decoded.image,
                    self._thumbnail_px,
                    self._preview_px,
                )
                image = replace(
                    image, phash=perceptual_hash(thumbnail), keypoints=keypoints(thumbnail)
                )
        except Unavailable:
            raise
        except Exception as exc:  # anything about this one image: it fails, the batch goes on
            outcome.fail(image_id, exc)
            return None
        # past the copies, a batch holds only what the model reads: not 32 previews' pixels
        return replace(image, decoded=replace(image.decoded, image=reduced(image.decoded.image)))

    def _load(self, image_id: str) -> PreparedImage:
        with _tracer.start_as_current_span("fetch", attributes={"image_id": image_id}):
            obj = self._store.open(original_key(image_id))
            data = obj.read()
        if not data:
            raise NotFound("original is empty or missing")
        with _tracer.start_as_current_span("decode", attributes={"bytes": len(data)}):
            decoded = self._decode(data, long_side=self._preview_px)
        details = read_details(self._store, image_id) if obj.metadata.get(HAS_DETAILS) else {}
        tags = details.get("tags")
        facts = details.get("facts")
        return PreparedImage(
            image_id=image_id,
            decoded=decoded,
            size=len(data),
            # originals stored by earlier versions carry name and source in their metadata
            filename=str(details.get("filename") or obj.metadata.get("filename", "")),
            created_at=_epoch(obj.metadata.get("uploaded-at")),
            source=str(details.get("source") or obj.metadata.get("source", "")),
            caption=str(details.get("caption", "")),
            tags=[str(t) for t in tags] if isinstance(tags, list) else [],
            facts=carried_facts(facts) if isinstance(facts, dict) else {},
        )


def _epoch(iso: str | None) -> int:
    try:
        return int(datetime.fromisoformat(iso).timestamp()) if iso else int(time.time())
    except ValueError:
        return int(time.time())
