import pytest

from ingestapi.browse import BrowseParams, BrowseService, StatsService
from shared.errors import Unprocessable
from shared.library import ItemMaker
from shared.schemas import ImageState
from shared.vectors import ActiveIndex, BrowseCursor, BrowsePage, ImageFilter
from tests.unit.fakes import InMemoryJobStore


class Timeline:
    def __init__(self) -> None:
        self.asked: list[tuple[ImageFilter | None, int, BrowseCursor | None]] = []
        self.sums = 0

    def browse(
        self, where: ImageFilter | None, limit: int, after: BrowseCursor | None = None
    ) -> BrowsePage:
        self.asked.append((where, limit, after))
        rows = [("a" * 64, {"filename": "a.jpg", "created_at": 1_700_000_000, "tags": ["x"]})]
        return BrowsePage(rows, BrowseCursor(1_700_000_000, "a" * 64, 3600), 7)

    def count(self) -> int:
        return 7

    def total_bytes(self) -> int:
        self.sums += 1
        return 12_345

    def active(self) -> ActiveIndex | None:
        return ActiveIndex("images__m__1", "org/model", 512, 1_700_000_000)


def test_a_page_has_signed_items_and_the_next_cursor() -> None:
    index = Timeline()
    service = BrowseService(index, ItemMaker("/images/", lambda path: f"{path}?sig=s"))
    page = service.page(BrowseParams.model_validate({"tags": "x, y", "limit": 5}))
    assert page.matching == 7
    [item] = page.items
    assert item.url == f"/images/{'a' * 64}?sig=s"
    assert item.thumbnail_url == f"/images/{'a' * 64}/thumbnail?sig=s"
    assert item.filename == "a.jpg" and item.tags == ["x"]
    assert page.next_cursor == BrowseCursor(1_700_000_000, "a" * 64, 3600).encode()
    where, limit, after = index.asked[0]
    assert (where and where.tags, limit, after) == (("x", "y"), 5, None)

    service.page(BrowseParams(cursor=page.next_cursor))
    assert index.asked[1][2] == BrowseCursor(1_700_000_000, "a" * 64, 3600)
    with pytest.raises(Unprocessable, match="cursor"):
        service.page(BrowseParams(cursor="not-a-cursor"))


def test_stats_are_computed_once_per_cache_period() -> None:
    now = [100.0]
    jobs, index = InMemoryJobStore(), Timeline()
    jobs.set_state("q" * 64, ImageState.queued)
    jobs.set_state("f" * 64, ImageState.failed, "corrupt")
    service = StatsService(jobs, index, cache_s=30, clock=lambda: now[0])
    stats = service.stats()
    assert stats.images["indexed"] == 7
    assert (stats.images["queued"], stats.images["failed"], stats.images["stored"]) == (1, 1, 0)
    assert stats.total == 9 and stats.bytes == 12_345
    assert stats.model is not None and (stats.model.model, stats.model.dim) == ("org/model", 512)
    now[0] += 29
    assert service.stats() is stats and index.sums == 1
    now[0] += 2
    assert service.stats() is not stats and index.sums == 2
