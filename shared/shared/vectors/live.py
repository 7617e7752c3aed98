"""The live collection, whichever model built it: no embedder, no torch.

Reads go to the live collection. Deletes and edits go to every collection of the prefix: a
reindex fills the next model's collection from the originals while this one is live, and an
image deleted or edited meanwhile must not come back, or come back unedited, at the switch."""

import time
from collections.abc import Iterator, Sequence

from pymilvus import MilvusClient

from shared.config import MilvusSettings
from shared.enrichment import REMOVED_AUTO_TAGS, without_removed
from shared.schemas import MAX_TAGS
from shared.text import cut_utf8
from shared.vectors.catalog import ActiveIndex, IndexCatalog
from shared.vectors.milvus_browse import BrowseCursor, BrowsePage, browse
from shared.vectors.milvus_client import (
    DETAIL_FIELDS,
    DISPLAY_FIELDS,
    display_fields,
    fetch_rows,
    open_client,
    unavailable_on_error,
)
from shared.vectors.milvus_filters import ids_expression, string_literal, strings_literal
from shared.vectors.milvus_index import ACTIVE_CHECK_S, TAG_BYTES, VARCHAR_BYTES, with_keywords
from shared.vectors.protocol import ImageFilter

# rows read at a time while summing sizes
BYTES_BATCH = 16384
# the most rows one query returns (Milvus' own cap): groups and duplicates beyond are not read
MAX_GROUP_ROWS = 16384


class LiveIndex:
    def __init__(self, client: MilvusClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._catalog = IndexCatalog(client, prefix)
        # (when looked, what was live): every call would otherwise cost two round trips
        self._looked: tuple[float, ActiveIndex | None] | None = None

    @classmethod
    def connect(cls, settings: MilvusSettings) -> "LiveIndex":
        with unavailable_on_error():
            client = open_client(settings)
        return cls(client, settings.collection_prefix)

    def close(self) -> None:
        self._client.close()

    def ping(self) -> None:
        with unavailable_on_error():
            self._client.has_collection(self._catalog.name)

    def active(self) -> ActiveIndex | None:
        """The live collection and the model that built it (None before the first one), as
        seen at most ACTIVE_CHECK_S ago: a reindex's switch shows within that."""
        looked = self._looked
        if looked is not None and time.monotonic() - looked[0] < ACTIVE_CHECK_S:
            return looked[1]
        with unavailable_on_error():
            exists = self._client.has_collection(self._catalog.name)
            active = self._catalog.active() if exists else None
        self._looked = (time.monotonic(), active)
        return active

    def live_collection(self) -> str | None:
        active = self.active()
        return active.collection if active else None

    def get(self, image_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        """Display fields of the ids in the live collection (none when nothing is live)."""
        collection = self.live_collection()
        return fetch_rows(self._client, collection, image_ids) if collection else {}

    def details(self, image_id: str) -> dict[str, object] | None:
        """One image's display fields and its details (the text read, with its boxes; the
        GPS position), or None when the live collection lacks it."""
        collection = self.live_collection()
        if collection is None:
            return None
        return fetch_rows(self._client, collection, [image_id], DETAIL_FIELDS).get(image_id)

    def browse(
        self, where: ImageFilter | None, limit: int, after: BrowseCursor | None = None
    ) -> BrowsePage:
        """A page of the live collection, newest first (see milvus_browse)."""
        collection = self.live_collection()
        if collection is None:
            return BrowsePage([], None, 0)
        return browse(self._client, collection, where, limit, after)

    def count(self) -> int:
        collection = self.live_collection()
        if collection is None:
            return 0
        with unavailable_on_error():
            rows = self._client.query(collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def sample_rows(self, limit: int) -> list[dict[str, object]]:
        """Up to ``limit`` live rows, in no order, every field but the vector (a model
        evaluation's sample: what the library says of its pictures)."""
        collection = self.live_collection()
        if collection is None:
            return []
        with unavailable_on_error():
            rows = self._client.query(collection, filter="", output_fields=["*"], limit=limit)
        return [{k: v for k, v in row.items() if k != "vector"} for row in rows]

    def total_bytes(self) -> int:
        """The size of every original in the live collection (reads one field of every row)."""
        collection = self.live_collection()
        if collection is None:
            return 0
        total = 0
        with unavailable_on_error():
            iterator = self._client.query_iterator(
                collection, batch_size=BYTES_BATCH, filter="", output_fields=["bytes"]
            )
            try:
                while rows := iterator.next():
                    total += sum(int(row["bytes"]) for row in rows)
            finally:
                iterator.close()
        return total

    def group_of(self, image_id: str, field: str) -> list[tuple[str, dict[str, object]]] | None:
        """The other images filed in ``image_id``'s group (``field``: dup_of or shot_of): the
        group's first image and every image filed under it. None when the image is not in
        the live collection."""
        collection = self.live_collection()
        if collection is None:
            return None
        with unavailable_on_error():
            rows = self._client.get(collection, ids=[image_id], output_fields=[field])
            if not rows:
                return None
            group = str(rows[0].get(field) or image_id)
            expr = f"({field} == {string_literal(group)} or id == {string_literal(group)})"
            found = self._client.query(
                collection,
                filter=f"{expr} and id != {string_literal(image_id)}",
                output_fields=DISPLAY_FIELDS,
                limit=MAX_GROUP_ROWS,
            )
        return [(str(r["id"]), display_fields(r)) for r in found]

    def members(self, field: str, firsts: Sequence[str]) -> dict[str, list[str]]:
        """The ids filed under each of these first images (``field``: dup_of or shot_of)."""
        if not firsts:
            return {}
        return self._filed(field, f"{field} in {strings_literal(firsts)}")

    def groups(self, field: str) -> dict[str, list[str]]:
        """Every group with an image filed under its first one: first image id → the ids
        filed under it (the first image may be gone: deleted)."""
        return self._filed(field, f'{field} != ""')

    def _filed(self, field: str, expr: str) -> dict[str, list[str]]:
        collection = self.live_collection()
        if collection is None:
            return {}
        with unavailable_on_error():
            rows = self._client.query(
                collection, filter=expr, output_fields=[field], limit=MAX_GROUP_ROWS
            )
        out: dict[str, list[str]] = {}
        for row in rows:
            out.setdefault(str(row[field]), []).append(str(row["id"]))
        return out

    def delete(self, image_ids: Sequence[str]) -> None:
        """Remove these rows from every collection of the prefix."""
        if not image_ids:
            return
        with unavailable_on_error():
            for collection in self._collections():
                self._client.delete(collection, filter=ids_expression(image_ids))

    def edit(
        self,
        image_id: str,
        caption: str | None,
        tags: Sequence[str] | None,
        removed_auto_tags: Sequence[str] | None = None,
    ) -> dict[str, object] | None:
        """Set the caption, tags and/or auto-tags taken away (the row loses those) of a row in
        every collection that has it, vector and all other fields as they were; the live
        row's display fields after, or None when the live collection lacks it."""
        changes: dict[str, object] = {}
        if removed_auto_tags is not None:
            removed = [cut_utf8(t, TAG_BYTES) for t in removed_auto_tags][:MAX_TAGS]
            current = self.get([image_id]).get(image_id, {})
            changes[REMOVED_AUTO_TAGS] = removed
            changes.update(without_removed({**current, REMOVED_AUTO_TAGS: removed}))
        if caption is not None:
            changes["caption"] = cut_utf8(caption, VARCHAR_BYTES["caption"])
        if tags is not None:
            changes["tags"] = [cut_utf8(t, TAG_BYTES) for t in tags][:MAX_TAGS]
        return self.update(image_id, changes)

    def row(self, image_id: str) -> dict[str, object] | None:
        """Every field of the live row (its vector and enrichment's facts included)."""
        collection = self.live_collection()
        if collection is None:
            return None
        with unavailable_on_error():
            rows = self._client.get(collection, ids=[image_id], output_fields=["*"])
        return dict(rows[0]) if rows else None

    def update(self, image_id: str, changes: dict[str, object]) -> dict[str, object] | None:
        """Set fields of a row in every collection that has it (its keywords made again from
        them), the others as they were; the live row's display fields after, or None when the
        live collection lacks it."""
        live = self.live_collection()
        after = None
        with unavailable_on_error():
            for collection in self._collections():
                rows = self._client.get(collection, ids=[image_id], output_fields=["*"])
                if not rows:
                    continue
                row = with_keywords({**rows[0], **changes})
                self._client.upsert(collection, [row])
                if collection == live:
                    after = display_fields(row)
        return after

    def _collections(self) -> list[str]:
        """This prefix's image collections (the catalog is not one)."""
        return [
            name for name in self._client.list_collections() if name.startswith(f"{self._prefix}__")
        ]


def live_index_resource(settings: MilvusSettings) -> Iterator[LiveIndex]:
    index = LiveIndex.connect(settings)
    yield index
    index.close()
