"""Write: the rows into the index in one request, then the images' states. Last on the writer
thread: what it passes on is indexed."""

from ingestworker.stages.batch import BatchOutcome, PreparedImage, Row
from shared.enrichment import GPS_FIELDS
from shared.errors import Unavailable
from shared.ids import derived_keys
from shared.log import get_logger
from shared.saved_searches import ALBUMS
from shared.schemas import ImageState
from shared.state import ImageStates
from shared.storage import ObjectStore
from shared.vectors import ImageRecord, IndexSwitched, VectorIndex

log = get_logger(__name__)


class Write:
    def __init__(self, index: VectorIndex, store: ObjectStore, states: ImageStates) -> None:
        self._index = index
        self._store = store
        self._states = states

    def __call__(self, rows: list[Row], outcome: BatchOutcome) -> list[Row]:
        written = self._upsert(rows, outcome) if rows else []
        gone = self._undo_deleted([row.image_id for row in written])
        indexed = [row for row in written if row.image_id not in gone]
        for row in indexed:
            self._states.set_state(row.image_id, ImageState.indexed)
        return indexed

    def _upsert(self, rows: list[Row], outcome: BatchOutcome) -> list[Row]:
        """One index write for the rows; a write refused while the index answers is a data
        problem: halved until each refused row is alone (and fails)."""
        if not rows:
            return []
        try:
            self._index.upsert([record_of(row) for row in rows])
            return rows
        except IndexSwitched:
            raise
        except Exception as exc:
            if isinstance(exc, Unavailable) and not self._index_answers():
                raise
            if len(rows) == 1:
                outcome.fail(rows[0].image_id, exc)
                return []
            half = len(rows) // 2
            return self._upsert(rows[:half], outcome) + self._upsert(rows[half:], outcome)

    def _undo_deleted(self, image_ids: list[str]) -> set[str]:
        """Images deleted while this batch held them: the delete marked them before it removed
        their rows and copies, so looking after the write finds every one whose row or copies
        this batch may have written back, and removes them again."""
        gone = self._states.deleted_among(image_ids)
        if gone:
            self._index.delete(sorted(gone))
            self._store.delete([key for image_id in gone for key in derived_keys(image_id)])
            log.info("deleted_while_indexing", images=len(gone))
        return gone

    def _index_answers(self) -> bool:
        try:
            self._index.ping()
        except Unavailable:
            return False
        return True


def record_of(row: Row) -> ImageRecord:
    image = row.image
    return ImageRecord(
        id=image.image_id,
        vector=row.vector,
        filename=image.filename,
        content_type=image.decoded.content_type,
        width=image.decoded.width,
        height=image.decoded.height,
        bytes=image.size,
        created_at=image.created_at,
        taken_at=image.decoded.taken_at,
        camera=image.decoded.camera,
        caption=image.caption,
        tags=image.tags,
        source=image.source,
        phash=image.phash,
        dup_of=row.dup_of,
        shot_of=row.shot_of,
        extra={**extra_fields(image), **({ALBUMS: list(row.albums)} if row.albums else {})},
    )


def extra_fields(image: PreparedImage) -> dict[str, object]:
    """The row's fields beyond the schema's: the GPS position, and what enrichment found
    before (a reindex, or the same upload indexed again)."""
    extra = dict(image.facts)
    if image.decoded.gps is not None:
        extra.update(zip(GPS_FIELDS, image.decoded.gps, strict=True))
    return extra
