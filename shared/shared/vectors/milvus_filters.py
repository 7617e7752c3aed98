"""An ImageFilter as a Milvus boolean expression.

The local Milvus (milvus-lite) has no expression templating (`filter_params`), so values are
written into the expression as literals: numbers as ints, strings as JSON string literals
(double-quoted, quotes and backslashes escaped), which Milvus reads the same way. A value
can therefore never end its literal and add conditions of its own.
"""

import json
from collections.abc import Sequence

from shared.vectors.milvus_client import UNKNOWN_TIME
from shared.vectors.protocol import ImageFilter

# the row fields a place filter matches (enrichment's, shared.enrichment.PLACE_FIELDS)
PLACE_NAMES = ("city", "region", "country", "country_code")


def filter_expression(where: ImageFilter | None) -> str:
    if where is None:
        return ""
    parts: list[str] = []
    if where.taken_from is not None or where.taken_to is not None:
        parts.append(f"taken_at > {UNKNOWN_TIME}")  # no EXIF date: outside any range
    parts += _range("taken_at", where.taken_from, where.taken_to)
    parts += _range("created_at", where.created_from, where.created_to)
    if where.tags:
        parts.append(f"array_contains_{where.tags_mode}(tags, {strings_literal(where.tags)})")
    if where.auto_tags:  # a dynamic field: a JSON list
        parts.append(
            f"json_contains_{where.tags_mode}(auto_tags, {strings_literal(where.auto_tags)})"
        )
    if where.content_types:
        parts.append(f"content_type in {strings_literal(where.content_types)}")
    if where.min_width is not None:
        parts.append(f"width >= {int(where.min_width)}")
    if where.min_height is not None:
        parts.append(f"height >= {int(where.min_height)}")
    if where.source is not None:
        parts.append(f"source == {string_literal(where.source)}")
    if where.place is not None:
        value = string_literal(where.place)
        parts.append("(" + " or ".join(f"{name} == {value}" for name in PLACE_NAMES) + ")")
    if where.camera is not None:
        parts.append(f"camera == {string_literal(where.camera)}")
    if where.exclude_ids:
        parts.append(f"id not in {strings_literal(where.exclude_ids)}")
    return " and ".join(parts)


def ids_expression(image_ids: Sequence[str]) -> str:
    return f"id in {strings_literal(image_ids)}"


def _range(field: str, low: int | None, high: int | None) -> list[str]:
    out = []
    if low is not None:
        out.append(f"{field} >= {int(low)}")
    if high is not None:
        out.append(f"{field} <= {int(high)}")
    return out


def string_literal(value: str) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def strings_literal(values: Sequence[str]) -> str:
    return "[" + ", ".join(string_literal(v) for v in values) + "]"
