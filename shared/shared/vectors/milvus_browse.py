"""The library newest first (date taken, else uploaded), a page at a time, from a Milvus
collection, which has no ORDER BY.

Counting the rows a filter keeps is cheap in Milvus (a scan of two int columns: ~1 ms at 100k
rows); reading rows out is not (~13 µs a row). So a page counts its way to a window of time
just before the cursor that holds between one and a few pages of rows, reads only that window,
and sorts it here. The cursor is the last item's (time, id): a page holds what comes strictly
after it in that order, so images added meanwhile are never repeated and never push others
out; it also carries the window's width, a good first guess for the next page."""

import base64
import json
import time
from dataclasses import dataclass

from pymilvus import MilvusClient

from shared.vectors.milvus_client import UNKNOWN_TIME, fetch_rows, unavailable_on_error
from shared.vectors.milvus_filters import filter_expression, string_literal
from shared.vectors.protocol import ImageFilter

# the first window's width, when no cursor says better
FIRST_SPAN_S = 24 * 3600
# a window is read once it holds at most this many pages' rows
MAX_PAGES_READ = 8
# widen or narrow a window at most this often for one page
MAX_STEPS = 64
MAX_SPAN_S = 2**52
# the most rows one Milvus query returns
MAX_QUERY_ROWS = 16384
SORT_FIELDS = ["taken_at", "created_at"]


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class BrowseCursor:
    when: int
    image_id: str
    span_s: int

    def encode(self) -> str:
        raw = json.dumps([self.when, self.image_id, self.span_s]).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> "BrowseCursor":
        try:
            when, image_id, span = json.loads(
                base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            )
            if not (isinstance(when, int) and isinstance(image_id, str) and isinstance(span, int)):
                raise TypeError
        except (ValueError, TypeError) as exc:
            raise BadCursor("not a cursor this API handed out") from exc
        return cls(when, image_id[:64], min(max(span, 1), MAX_SPAN_S))


@dataclass(frozen=True)
class BrowsePage:
    rows: list[tuple[str, dict[str, object]]]  # (id, display fields), newest first
    next: BrowseCursor | None
    matching: int  # images the filter keeps, in all


def browse(
    client: MilvusClient,
    collection: str,
    where: ImageFilter | None,
    limit: int,
    after: BrowseCursor | None = None,
) -> BrowsePage:
    base = filter_expression(where)
    scope = _and(base, _before(after) if after else "")
    need = limit + 1
    most = need * MAX_PAGES_READ
    with unavailable_on_error():
        matching = _count(client, collection, base)
        left = matching if after is None else _count(client, collection, scope)
        span = after.span_s if after else FIRST_SPAN_S
        window = scope
        if left > most:
            window, span = _window(client, collection, scope, where, after, need, most, span)
        # the window's rows by their sort keys only (cheap), then the page's display fields
        found = client.query(
            collection, filter=window, output_fields=SORT_FIELDS, limit=MAX_QUERY_ROWS
        )
        keys = sorted(((_when(row), str(row["id"])) for row in found), reverse=True)
        ids = [image_id for _, image_id in keys[:limit]]
        shown = fetch_rows(client, collection, ids) if ids else {}
    more = len(keys) > limit and ids
    cursor = BrowseCursor(keys[limit - 1][0], ids[-1], span) if more else None
    return BrowsePage([(i, shown[i]) for i in ids if i in shown], cursor, matching)


def _window(
    client: MilvusClient,
    collection: str,
    scope: str,
    where: ImageFilter | None,
    after: BrowseCursor | None,
    need: int,
    most: int,
    span: int,
) -> tuple[str, int]:
    """The expression of a window [hi - span, cursor) holding need..most rows (more only when
    one second holds more), and its span."""
    hi = after.when if after else _newest_possible(where)
    too_few: int | None = None  # lowest bound seen with fewer than `need` rows
    too_many: int | None = None  # highest bound seen with more than `most`
    window = scope
    for _ in range(MAX_STEPS):
        low = hi - span
        window = _and(scope, _key(">=", low))
        found = _count(client, collection, window)
        if found < need:
            too_few = low
        elif found > most and span > 1:
            too_many = low
        else:
            break
        if too_few is not None and too_many is not None:
            if too_few - too_many <= 1:
                window = _and(scope, _key(">=", too_many))  # one second holds them all
                span = hi - too_many
                break
            span = hi - (too_few + too_many) // 2
        else:
            # as if the rows were spread evenly: aim at twice what a page needs
            factor = 2 * need / max(found, 1)
            span = int(min(max(span * min(max(factor, 1 / 64), 64), 1), MAX_SPAN_S))
    return window, max(span, 1)


def _newest_possible(where: ImageFilter | None) -> int:
    """Where the first page's window ends: now, or the end of a date-taken filter (then every
    row kept sorts by its date taken); later rows (a camera clock set ahead) are in too."""
    now = int(time.time())
    return where.taken_to if where and where.taken_to is not None else now


def _count(client: MilvusClient, collection: str, expr: str) -> int:
    rows = client.query(collection, filter=expr, output_fields=["count(*)"])
    return int(rows[0]["count(*)"])


def _when(row: dict[str, object]) -> int:
    taken = row.get("taken_at")
    if isinstance(taken, int) and taken != UNKNOWN_TIME:
        return taken
    created = row.get("created_at")
    return created if isinstance(created, int) else 0


def _key(op: str, value: int) -> str:
    """The sort time (date taken, else uploaded) compared with a value."""
    return (
        f"((taken_at > {UNKNOWN_TIME} and taken_at {op} {int(value)}) or "
        f"(taken_at == {UNKNOWN_TIME} and created_at {op} {int(value)}))"
    )


def _before(cursor: BrowseCursor) -> str:
    tie = f"({_key('==', cursor.when)} and id < {string_literal(cursor.image_id)})"
    return f"({_key('<', cursor.when)} or {tie})"


def _and(*parts: str) -> str:
    return " and ".join(f"({p})" for p in parts if p)
