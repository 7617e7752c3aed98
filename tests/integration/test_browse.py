"""Browsing the live collection newest first, against the real Milvus server: the order, the
paging while images are added, the filters, and windows over bursts and sparse years."""

import random

import pytest

from imagesearch_dev.localstack import Stack
from shared.vectors import (
    BadCursor,
    BrowseCursor,
    ImageFilter,
    ImageRecord,
    LiveIndex,
    MilvusVectorIndex,
)
from tests.support.stack import milvus_settings

NOW = 1_760_000_000
DAY = 86_400


def records(rng: random.Random, count: int, start: int) -> list[ImageRecord]:
    out = []
    for n in range(start, start + count):
        kind = n % 5
        if kind == 0:  # a burst: one upload request, the same second, no EXIF date
            created, taken = NOW - 3 * DAY, None
        elif kind == 1:  # photos of years ago
            created, taken = NOW - rng.randrange(DAY), NOW - rng.randrange(20 * 365 * DAY)
        elif kind == 2:  # a camera with its clock in the future
            created, taken = NOW - rng.randrange(DAY), NOW + rng.randrange(1, 400 * DAY)
        else:
            created, taken = NOW - rng.randrange(60 * DAY), None
        out.append(
            ImageRecord(
                id=f"{n:064x}",
                vector=[1.0, 0.0],
                filename=f"{n}.jpg",
                content_type="image/png" if n % 7 == 0 else "image/jpeg",
                width=100,
                height=100,
                bytes=1000 + n,
                created_at=created,
                taken_at=taken,
                tags=["even"] if n % 2 == 0 else ["odd"],
            )
        )
    return out


def newest_first(rows: list[ImageRecord]) -> list[str]:
    def when(r: ImageRecord) -> int:
        return r.taken_at if r.taken_at is not None else r.created_at

    return [r.id for r in sorted(rows, key=lambda r: (when(r), r.id), reverse=True)]


def all_pages(library: LiveIndex, limit: int, where: ImageFilter | None = None) -> list[str]:
    seen, after = [], None
    while True:
        page = library.browse(where, limit, after)
        seen += [image_id for image_id, _ in page.rows]
        if page.next is None:
            return seen
        after = BrowseCursor.decode(page.next.encode())


@pytest.fixture(scope="module")
def library(infra: Stack) -> tuple[LiveIndex, MilvusVectorIndex, list[ImageRecord]]:
    settings = milvus_settings(infra)
    index = MilvusVectorIndex.connect(settings, "org/browse", 2)
    index.attach()
    rows = records(random.Random(5), 600, 0)
    index.upsert(rows)
    return LiveIndex.connect(settings), index, rows


def test_pages_follow_the_date_taken_else_uploaded_order(
    library: tuple[LiveIndex, MilvusVectorIndex, list[ImageRecord]],
) -> None:
    live, _, rows = library
    for limit in (1, 7, 50, 200):
        assert all_pages(live, limit) == newest_first(rows), limit
    first = live.browse(None, 3)
    assert first.matching == 600
    assert first.rows[0][1]["filename"] == f"{int(first.rows[0][0], 16)}.jpg"


def test_filters_apply_to_every_page(
    library: tuple[LiveIndex, MilvusVectorIndex, list[ImageRecord]],
) -> None:
    live, _, rows = library
    where = ImageFilter(tags=("even",), content_types=("image/jpeg",))
    expected = newest_first(
        [r for r in rows if "even" in r.tags and r.content_type == "image/jpeg"]
    )
    assert all_pages(live, 9, where) == expected
    assert live.browse(where, 9).matching == len(expected)
    dated = ImageFilter(taken_from=NOW - 5 * 365 * DAY, taken_to=NOW)
    kept = [r for r in rows if r.taken_at is not None and NOW - 5 * 365 * DAY <= r.taken_at <= NOW]
    assert all_pages(live, 11, dated) == newest_first(kept)
    assert live.browse(ImageFilter(source="nowhere"), 5).rows == []


def test_images_added_while_paging_neither_repeat_nor_push_others_out(infra: Stack) -> None:
    settings = milvus_settings(infra)
    index = MilvusVectorIndex.connect(settings, "org/browse-live", 2)
    index.attach()
    rng = random.Random(8)
    before = records(rng, 300, 0)
    index.upsert(before)
    live = LiveIndex.connect(settings)
    seen: list[str] = []
    after = None
    added = 0
    while True:
        page = live.browse(None, 13, after)
        seen += [image_id for image_id, _ in page.rows]
        if page.next is None:
            break
        after = page.next
        index.upsert(records(rng, 20, 1000 + added))  # newer, older and same-second ones
        added += 20
    assert len(seen) == len(set(seen))
    assert set(r.id for r in before) <= set(seen)
    # what came later, came in order: the whole listing is sorted
    order = {image_id: n for n, image_id in enumerate(newest_first(before))}
    listed_before = [i for i in seen if i in order]
    assert listed_before == sorted(listed_before, key=order.__getitem__)


def test_a_cursor_that_was_not_handed_out_is_refused() -> None:
    for text in ("", "not base64 !", "WzEsMl0", BrowseCursor(1, "a", 5).encode()[:-3] + "!!"):
        with pytest.raises(BadCursor):
            BrowseCursor.decode(text)
    assert BrowseCursor.decode(BrowseCursor(5, "b" * 64, 60).encode()) == BrowseCursor(
        5, "b" * 64, 60
    )
