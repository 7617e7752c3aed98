"""Scalar filters for a vector search, as a Milvus boolean expression.

The local Milvus (milvus-lite) has no expression templating (`filter_params`), so values are
written into the expression as literals: numbers as ints, strings as JSON string literals
(double-quoted, quotes and backslashes escaped), which Milvus reads the same way. A value
can therefore never end its literal and add conditions of its own.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from shared.vectors.milvus_index import UNKNOWN_TIME


@dataclass(frozen=True)
class ImageFilter:
    taken_from: int | None = None  # epoch seconds, inclusive
    taken_to: int | None = None
    created_from: int | None = None
    created_to: int | None = None
    tags: tuple[str, ...] = ()
    tags_mode: Literal["any", "all"] = "any"
    content_types: tuple[str, ...] = ()
    min_width: int | None = None
    min_height: int | None = None
    source: str | None = None
    exclude_ids: tuple[str, ...] = ()

    def expression(self) -> str:
        parts: list[str] = []
        if self.taken_from is not None or self.taken_to is not None:
            parts.append(f"taken_at > {UNKNOWN_TIME}")  # no EXIF date: outside any range
        parts += _range("taken_at", self.taken_from, self.taken_to)
        parts += _range("created_at", self.created_from, self.created_to)
        if self.tags:
            parts.append(f"array_contains_{self.tags_mode}(tags, {_strings(self.tags)})")
        if self.content_types:
            parts.append(f"content_type in {_strings(self.content_types)}")
        if self.min_width is not None:
            parts.append(f"width >= {int(self.min_width)}")
        if self.min_height is not None:
            parts.append(f"height >= {int(self.min_height)}")
        if self.source is not None:
            parts.append(f"source == {_string(self.source)}")
        if self.exclude_ids:
            parts.append(f"id not in {_strings(self.exclude_ids)}")
        return " and ".join(parts)


def _range(field: str, low: int | None, high: int | None) -> list[str]:
    out = []
    if low is not None:
        out.append(f"{field} >= {int(low)}")
    if high is not None:
        out.append(f"{field} <= {int(high)}")
    return out


def _string(value: str) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def _strings(values: Sequence[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"
