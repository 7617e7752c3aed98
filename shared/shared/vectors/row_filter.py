"""An ImageFilter applied to one row's fields in Python, exactly as Milvus applies its
expression (shared.vectors.milvus_filters): for matching a new image against stored searches
without asking the index. The conformance tests hold the two to the same answers."""

from collections.abc import Mapping

from shared.vectors.milvus_client import UNKNOWN_TIME
from shared.vectors.milvus_filters import PLACE_NAMES
from shared.vectors.protocol import ImageFilter


def row_keeps(where: ImageFilter | None, image_id: str, row: Mapping[str, object]) -> bool:
    """Whether the filter keeps this row (its stored fields, as the index returns them)."""
    if where is None:
        return True
    taken = _int(row.get("taken_at"), UNKNOWN_TIME)
    if (where.taken_from is not None or where.taken_to is not None) and taken == UNKNOWN_TIME:
        return False
    created = _int(row.get("created_at"), 0)
    return all(
        (
            _within(taken, where.taken_from, where.taken_to),
            _within(created, where.created_from, where.created_to),
            _contains(row.get("tags"), where.tags, where.tags_mode),
            _contains(row.get("auto_tags"), where.auto_tags, where.tags_mode),
            not where.content_types or row.get("content_type") in where.content_types,
            where.min_width is None or _int(row.get("width"), 0) >= where.min_width,
            where.min_height is None or _int(row.get("height"), 0) >= where.min_height,
            where.source is None or row.get("source") == where.source,
            where.place is None or any(row.get(name) == where.place for name in PLACE_NAMES),
            where.camera is None or row.get("camera") == where.camera,
            image_id not in where.exclude_ids,
        )
    )


def _int(value: object, missing: int) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else missing


def _within(value: int, low: int | None, high: int | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _contains(listed: object, wanted: tuple[str, ...], mode: str) -> bool:
    if not wanted:
        return True
    held = set(listed) if isinstance(listed, list | tuple) else set()
    return set(wanted) <= held if mode == "all" else bool(held & set(wanted))
