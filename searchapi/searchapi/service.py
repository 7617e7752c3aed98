"""Text → vector → nearest images. Inference and Milvus calls run off the event loop."""

import asyncio
import time
from concurrent.futures import Executor
from functools import partial

from shared.embedding import Embedder
from shared.schemas import SearchItem, SearchResponse
from shared.vectors import SearchHit, VectorIndex


class SearchService:
    def __init__(
        self, embedder: Embedder, index: VectorIndex, executor: Executor, url_prefix: str
    ) -> None:
        self._embedder = embedder
        self._index = index
        self._executor = executor
        self._url_prefix = url_prefix.rstrip("/")

    async def search_text(self, text: str, limit: int) -> SearchResponse:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        vectors = await loop.run_in_executor(self._executor, self._embedder.embed_texts, [text])
        hits = await loop.run_in_executor(None, partial(self._index.search, vectors[0], limit))
        return SearchResponse(
            items=[self._item(hit) for hit in hits],
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _item(self, hit: SearchHit) -> SearchItem:
        fields = hit.fields
        return SearchItem(
            id=hit.id,
            score=round(hit.score, 6),
            url=f"{self._url_prefix}/{hit.id}",
            filename=_opt_str(fields.get("filename")),
            content_type=_opt_str(fields.get("content_type")),
            width=_opt_int(fields.get("width")),
            height=_opt_int(fields.get("height")),
        )


def _opt_str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _opt_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None
