"""What the Milvus adapter writes fits the collection it creates: VARCHAR limits count UTF-8
bytes (a real Milvus refuses a longer value), so every string is cut by bytes, between
characters."""

from typing import Any

import pytest
from pymilvus import DataType, MilvusClient

from shared.config import MilvusSettings
from shared.text import cut_utf8
from shared.vectors import ImageRecord, MilvusVectorIndex
from shared.vectors.milvus_index import KEYWORDS_FIELD


class RecordingClient:
    """Stands in for MilvusClient: keeps the schema it was asked to create and the rows."""

    def __init__(self) -> None:
        self.schema: Any = None
        self.rows: list[dict[str, object]] = []

    def prepare_index_params(self) -> Any:
        return MilvusClient.prepare_index_params()

    def create_collection(
        self, name: str, schema: Any, index_params: Any, consistency_level: str
    ) -> None:
        self.schema = schema

    def upsert(self, collection: str, rows: list[dict[str, object]]) -> None:
        self.rows.extend(rows)


@pytest.mark.parametrize("char", ["a", "é", "中", "🌅"])  # 1, 2, 3 and 4 bytes in UTF-8
def test_every_string_written_fits_its_field_in_bytes(char: str) -> None:
    client = RecordingClient()
    index = MilvusVectorIndex(client, MilvusSettings(), "model", 3)  # type: ignore[arg-type]
    index._create()
    long = char * 5000
    record = ImageRecord(
        "f" * 64,
        [1.0, 0.0, 0.0],
        filename=long,
        content_type="image/jpeg",
        width=1,
        height=1,
        bytes=1,
        created_at=0,
        camera=long,
        caption=long,
        tags=[long] * 40,
        source=long,
        phash=long,
        dup_of=long,
        shot_of=long,
    )
    index.upsert([record])
    [row] = client.rows
    fields = {f.name: f for f in client.schema.fields}
    for name, field in fields.items():
        if field.dtype == DataType.VARCHAR:
            value = str(row[name])
            assert len(value.encode()) <= field.params["max_length"], name
            if name == KEYWORDS_FIELD:  # words with their field (caption:aaaa…), if any
                assert char.isalnum() == value.startswith("file:")
                continue
            assert value == long[: len(value)] or name in ("id", "content_type")
            assert len(value) > 0
        if field.dtype == DataType.ARRAY:
            tags = row[name]
            assert isinstance(tags, list) and len(tags) <= field.params["max_capacity"]
            assert all(len(t.encode()) <= field.params["max_length"] for t in tags)


def test_cut_utf8_never_splits_a_character() -> None:
    assert cut_utf8("aé中🌅", 6) == "aé中"  # 1 + 2 + 3 bytes; the 4-byte sun does not fit
    assert cut_utf8("aé中🌅", 5) == "aé"
    assert cut_utf8("short", 100) == "short"
    assert cut_utf8("bad \udc80 surrogate", 100) == "bad ? surrogate"
