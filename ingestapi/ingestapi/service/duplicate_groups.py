"""Duplicates as the worker filed them (shared.image_items.tiers): an image's own, every
group across the library, and folding a same-picture group into one item on the timeline."""

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, Field

from shared.errors import NotFound, Unprocessable
from shared.ids import is_content_id
from shared.image_items import ImageItem, ItemMaker
from shared.image_items.tiers import Tier

FIELDS = {Tier.same_picture: "dup_of", Tier.similar_shot: "shot_of"}
MAX_GROUPS = 100


class DuplicateItem(ImageItem):
    tier: Tier


class ImageDuplicates(BaseModel):
    id: str
    items: list[DuplicateItem] = Field(description="same pictures first, then similar shots")


class DuplicateGroup(BaseModel):
    tier: Tier
    key: str = Field(description="the id of the group's first image (it may be deleted)")
    items: list[ImageItem] = Field(description="best first: most pixels, then largest file")


class DuplicateGroups(BaseModel):
    groups: list[DuplicateGroup]
    next_cursor: str | None = None
    next: str | None = None


class GroupIndex(Protocol):
    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]: ...

    def group_of(self, image_id: str, field: str) -> list[tuple[str, dict[str, object]]] | None: ...

    def groups(self, field: str) -> dict[str, list[str]]: ...

    def members(self, field: str, firsts: Sequence[str]) -> dict[str, list[str]]: ...


# pages of groups one request looks at, at most, to fill its page
EXAMINED_PAGES = 4


class DuplicatesService:
    def __init__(self, index: GroupIndex, items: ItemMaker) -> None:
        self._index = index
        self._items = items

    def of_image(self, image_id: str) -> ImageDuplicates:
        same = (
            self._index.group_of(image_id, FIELDS[Tier.same_picture])
            if is_content_id(image_id)
            else None
        )
        if same is None:
            raise NotFound("no such image in the index")
        shots = self._index.group_of(image_id, FIELDS[Tier.similar_shot]) or []
        seen = {i for i, _ in same}
        items = [self._item(i, row, Tier.same_picture) for i, row in _best_first(same)]
        items += [
            self._item(i, row, Tier.similar_shot) for i, row in _best_first(shots) if i not in seen
        ]
        return ImageDuplicates(id=image_id, items=items)

    def groups(self, tier: Tier, limit: int, cursor: str | None) -> DuplicateGroups:
        """Groups of two or more images, by their first image's id."""
        if cursor is not None and not is_content_id(cursor):
            raise Unprocessable("cursor: not a cursor this API handed out")
        filed = self._index.groups(FIELDS[tier])
        keys = sorted(k for k in filed if cursor is None or k > cursor)
        out: list[DuplicateGroup] = []
        # bounded work per request: groups whose images were deleted are skipped, but at most
        # EXAMINED_PAGES pages of them; a page may then hold fewer groups and a cursor
        for start in range(0, len(keys), limit):
            if start >= limit * EXAMINED_PAGES:
                return DuplicateGroups(groups=out, next_cursor=keys[start - 1])
            chunk = keys[start : start + limit]
            rows = self._index.get([i for k in chunk for i in (k, *filed[k])])
            for key in chunk:
                present = [(i, rows[i]) for i in (key, *filed[key]) if i in rows]
                if len(present) >= 2:
                    items = [self._items.item(i, row) for i, row in _best_first(present)]
                    out.append(DuplicateGroup(tier=tier, key=key, items=items))
                if len(out) == limit:
                    more = key != keys[-1]
                    return DuplicateGroups(groups=out, next_cursor=key if more else None)
        return DuplicateGroups(groups=out)

    def fold(
        self, rows: list[tuple[str, dict[str, object]]]
    ) -> list[tuple[str, dict[str, object], int]]:
        """A timeline page with each same-picture group shown once, at its first image, with
        how many others it stands for; an image filed under a first image that is gone
        (deleted) shows as itself."""
        field = FIELDS[Tier.same_picture]
        firsts = {str(row.get(field)) for _, row in rows if row.get(field)}
        present = set(self._index.get(sorted(firsts))) if firsts else set()
        members = self._index.members(field, [i for i, _ in rows])
        return [
            (image_id, row, len(members.get(image_id, [])))
            for image_id, row in rows
            if not (row.get(field) and str(row.get(field)) in present)
        ]

    def _item(self, image_id: str, row: dict[str, object], tier: Tier) -> DuplicateItem:
        return DuplicateItem.model_validate({**self._items.fields(image_id, row), "tier": tier})


def _best_first(
    rows: Sequence[tuple[str, dict[str, object]]],
) -> list[tuple[str, dict[str, object]]]:
    def size(row: dict[str, object]) -> tuple[int, int]:
        width, height, size = (row.get(k) for k in ("width", "height", "bytes"))
        pixels = width * height if isinstance(width, int) and isinstance(height, int) else 0
        return pixels, size if isinstance(size, int) else 0

    return sorted(rows, key=lambda r: (*(-x for x in size(r[1])), r[0]))
