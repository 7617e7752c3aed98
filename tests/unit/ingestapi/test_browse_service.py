from collections.abc import Sequence

import pytest

from ingestapi.service.browse import BrowseParams, BrowseService, StatsService
from ingestapi.service.duplicate_groups import DuplicatesService
from shared.errors import NotFound, Unprocessable
from shared.image_items import ItemMaker
from shared.image_items.tiers import Tier
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

    # the groups the worker filed: b and c are copies of a
    ROWS: dict[str, dict[str, object]] = {
        "a" * 64: {"filename": "a.jpg", "width": 10, "height": 10},
        "b" * 64: {"filename": "b.jpg", "width": 40, "height": 30, "dup_of": "a" * 64},
        "c" * 64: {"filename": "c.jpg", "width": 40, "height": 30, "dup_of": "a" * 64},
        "d" * 64: {"filename": "d.jpg", "dup_of": "e" * 64},  # its first image was deleted
    }

    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        return {i: self.ROWS[i] for i in image_ids if i in self.ROWS}

    def members(self, field: str, firsts: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for image_id, row in self.ROWS.items():
            if row.get(field) in firsts:
                out.setdefault(str(row[field]), []).append(image_id)
        return out

    def groups(self, field: str) -> dict[str, list[str]]:
        return self.members(field, [str(r[field]) for r in self.ROWS.values() if field in r])

    def group_of(self, image_id: str, field: str) -> list[tuple[str, dict[str, object]]] | None:
        if image_id not in self.ROWS:
            return None
        group = self.ROWS[image_id].get(field) or image_id
        return [
            (i, r)
            for i, r in self.ROWS.items()
            if i != image_id and (i == group or r.get(field) == group)
        ]


def maker() -> ItemMaker:
    return ItemMaker("/images/", lambda path: f"{path}?sig=s")


def service(index: Timeline) -> BrowseService:
    return BrowseService(index, maker(), DuplicatesService(index, maker()))


def test_a_page_has_signed_items_and_the_next_cursor() -> None:
    index = Timeline()
    browse = service(index)
    page = browse.page(BrowseParams.model_validate({"tags": "x, y", "limit": 5}))
    assert page.matching == 7
    [item] = page.items
    assert item.url == f"/images/{'a' * 64}?sig=s"
    assert item.thumbnail_url == f"/images/{'a' * 64}/thumbnail?sig=s"
    assert item.filename == "a.jpg" and item.tags == ["x"]
    assert page.next_cursor == BrowseCursor(1_700_000_000, "a" * 64, 3600).encode()
    where, limit, after = index.asked[0]
    assert (where and where.tags, limit, after) == (("x", "y"), 5, None)

    browse.page(BrowseParams(cursor=page.next_cursor))
    assert index.asked[1][2] == BrowseCursor(1_700_000_000, "a" * 64, 3600)
    with pytest.raises(Unprocessable, match="cursor"):
        browse.page(BrowseParams(cursor="not-a-cursor"))


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
    assert stats.enrichment_backlog == 0
    now[0] += 29
    jobs.add_to_enrich(["q" * 64, "f" * 64])
    again = service.stats()
    assert again.computed_at == stats.computed_at and index.sums == 1
    assert again.enrichment_backlog == 2  # counted afresh, inside the cache period
    now[0] += 2
    assert service.stats().computed_at != stats.computed_at and index.sums == 2


def test_the_timeline_folds_a_same_picture_group_into_its_first_image() -> None:
    folded = DuplicatesService(Timeline(), maker()).fold(list(Timeline.ROWS.items()))
    assert [(i[:1], n) for i, _, n in folded] == [("a", 2), ("d", 0)]


def test_an_images_duplicates_and_the_groups_across_the_library() -> None:
    duplicates = DuplicatesService(Timeline(), maker())
    of_b = duplicates.of_image("b" * 64)
    assert [(i.id[:1], i.tier.value) for i in of_b.items] == [
        ("c", "same_picture"),
        ("a", "same_picture"),
    ]
    with pytest.raises(NotFound):
        duplicates.of_image("f" * 64)
    groups = duplicates.groups(Tier.same_picture, limit=10, cursor=None)
    # best first (most pixels); d's group has one image left: no group
    assert [[i.id[:1] for i in g.items] for g in groups.groups] == [["b", "c", "a"]]
    assert groups.next_cursor is None
    with pytest.raises(Unprocessable):
        duplicates.groups(Tier.same_picture, limit=10, cursor="../x")


class GroupsLeftAlone(Timeline):
    """60 groups whose other images were all deleted, then one whole group."""

    ROWS = {f"{n:02d}".ljust(64, "0"): {"filename": f"{n}.jpg"} for n in range(62)}

    def groups(self, field: str) -> dict[str, list[str]]:
        keys = list(self.ROWS)
        lone = {key: [key.replace("0", "f", 1)] for key in keys[:60]}  # members gone
        return {**lone, keys[60]: [keys[61]]}

    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        self.read = getattr(self, "read", 0) + len(image_ids)
        return {i: self.ROWS[i] for i in image_ids if i in self.ROWS}


def test_a_page_of_groups_looks_at_a_bounded_number_of_groups_then_hands_a_cursor() -> None:
    index = GroupsLeftAlone()
    duplicates = DuplicatesService(index, maker())
    page = duplicates.groups(Tier.same_picture, limit=5, cursor=None)
    assert page.groups == [] and page.next_cursor is not None
    assert index.read <= 2 * 5 * 4  # four pages of groups, two ids each
    pages = 1
    while page.next_cursor is not None and not page.groups:
        page = duplicates.groups(Tier.same_picture, limit=5, cursor=page.next_cursor)
        pages += 1
    assert sorted(i.id[:2] for g in page.groups for i in g.items) == ["60", "61"]
    assert pages == 4  # 60 lone groups, 20 looked at a request
