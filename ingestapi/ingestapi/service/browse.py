"""The library as a timeline (newest first, filtered, paged by cursor) and its counts."""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from pydantic import Field

from ingestapi.schemas import BrowseResponse, LibraryStats, ModelInfo
from ingestapi.service.duplicate_groups import DuplicatesService
from shared.errors import Unprocessable
from shared.image_items import ImageFilterParams, ImageItem, ItemMaker
from shared.schemas import ImageState
from shared.state import EnrichBacklog, StateReads
from shared.vectors import ActiveIndex, BadCursor, BrowseCursor, BrowsePage, ImageFilter

MAX_BROWSE_LIMIT = 200


class BrowseParams(ImageFilterParams):
    limit: int = Field(50, ge=1, le=MAX_BROWSE_LIMIT)
    cursor: str | None = Field(
        None, max_length=512, description="next_cursor of the page before; none: the newest"
    )
    collapse: bool = Field(
        True, description="show a same-picture group once, with how many others it stands for"
    )


class BrowsableIndex(Protocol):
    def browse(
        self, where: ImageFilter | None, limit: int, after: BrowseCursor | None = None
    ) -> BrowsePage: ...

    def count(self) -> int: ...

    def total_bytes(self) -> int: ...

    def active(self) -> ActiveIndex | None: ...


class BrowseService:
    def __init__(
        self, index: BrowsableIndex, items: ItemMaker, duplicates: DuplicatesService
    ) -> None:
        self._index = index
        self._items = items
        self._duplicates = duplicates

    def page(self, params: BrowseParams) -> BrowseResponse:
        started = time.perf_counter()
        try:
            after = BrowseCursor.decode(params.cursor) if params.cursor else None
        except BadCursor as exc:
            raise Unprocessable(f"cursor: {exc}") from None
        page = self._index.browse(params.image_filter(), params.limit, after)
        # folding may leave a page short: the cursor still follows every row read
        shown = (
            self._duplicates.fold(page.rows)
            if params.collapse
            else [(image_id, row, 0) for image_id, row in page.rows]
        )
        return BrowseResponse(
            items=[
                ImageItem.model_validate({**self._items.fields(i, row), "duplicates": n})
                for i, row, n in shown
            ],
            next_cursor=page.next.encode() if page.next else None,
            matching=page.matching,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )


class StatsReads(StateReads, EnrichBacklog, Protocol):
    pass


class StatsService:
    """Counts by state: indexed from the live index, the rest (and enrichment's backlog) from
    the state store. The total size reads every row, so one computation serves everyone for
    ``cache_s``; the backlog is counted afresh every time."""

    def __init__(
        self,
        jobs: StatsReads,
        index: BrowsableIndex,
        cache_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._jobs = jobs
        self._index = index
        self._cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, LibraryStats] | None = None

    def stats(self) -> LibraryStats:
        with self._lock:  # one computation at a time; the others wait for its result
            if not self._cached or self._clock() - self._cached[0] >= self._cache_s:
                self._cached = (self._clock(), self._compute())
            stats = self._cached[1]
        # one count in Redis: always fresh, so a backlog is seen draining
        return stats.model_copy(update={"enrichment_backlog": self._jobs.enrich_backlog()})

    def _compute(self) -> LibraryStats:
        images = {ImageState.indexed.value: self._index.count()}
        images.update({state.value: n for state, n in self._jobs.state_counts().items()})
        active = self._index.active()
        model = (
            ModelInfo(
                model=active.model,
                dim=active.dim,
                collection=active.collection,
                live_since=datetime.fromtimestamp(active.switched_at, UTC),
            )
            if active
            else None
        )
        return LibraryStats(
            images=images,
            total=sum(images.values()),
            bytes=self._index.total_bytes(),
            model=model,
            computed_at=datetime.now(UTC),
        )
