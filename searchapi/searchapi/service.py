"""Query → vector → nearest images, filtered inside Milvus, then cut, sorted and paged.

Inference runs on the inference pool, query images decode on a pool of their own, Milvus calls
on the default pool: never on the event loop. Text vectors of recent queries are kept in a
small LRU.
"""

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import TypeVar

import numpy as np
from PIL import Image

from searchapi.metrics import QUERY_CACHE, SEARCH_SECONDS
from searchapi.schemas import SearchItem, SearchOptions, SearchResponse
from shared.config import Limit
from shared.embedding import Embedder, Vectors
from shared.errors import NotFound
from shared.ids import is_content_id
from shared.image_items import ItemMaker
from shared.images import decode_image
from shared.vectors import SearchHit, VectorIndex
from shared.web.signing import UrlSigner

T = TypeVar("T")
# scores are compared at this precision: equal vectors can differ in the last float bits
SCORE_DIGITS = 6


@dataclass(frozen=True)
class Page:
    hits: list[SearchHit]
    next_offset: int | None
    # hits folded into each shown one: the same picture, further down (collapse)
    folded: dict[str, int] = field(default_factory=dict)


class SearchService:
    def __init__(
        self,
        embedder: Embedder,
        index: VectorIndex,
        executor: Executor,
        image_executor: Executor,
        url_prefix: str,
        url_signer: UrlSigner,
        max_depth: int,
        max_pixels: Limit,
        query_cache_size: int,
    ) -> None:
        self._embedder = embedder
        self._index = index
        self._executor = executor
        self._image_executor = image_executor
        self._items = ItemMaker(url_prefix, url_signer.sign)
        self._max_depth = max_depth
        self._max_pixels = max_pixels
        self._text_vector = lru_cache(maxsize=query_cache_size)(self._embed_text)
        QUERY_CACHE.source = self._text_vector.cache_info

    async def by_text(self, text: str, options: SearchOptions) -> SearchResponse:
        started = time.perf_counter()
        vector = await self._infer(self._text_vector, text)
        return await self._respond(vector, options, started)

    async def by_image(
        self, data: bytes, options: SearchOptions, text: str | None = None, weight: float = 0.5
    ) -> SearchResponse:
        """Any image (validated like an upload); with text, a blend: ``weight`` on the image."""
        started = time.perf_counter()
        # decoding runs on its own pool: a huge query image never holds up text queries
        image = await asyncio.get_running_loop().run_in_executor(
            self._image_executor, self._decode, data
        )
        vector = await self._infer(self._embed_image, image)
        if text:
            text_vector = await self._infer(self._text_vector, text)
            blended = weight * vector + (1 - weight) * text_vector
            vector = (blended / max(float(np.linalg.norm(blended)), 1e-12)).astype(np.float32)
        return await self._respond(vector, options, started)

    async def similar(self, image_id: str, options: SearchOptions) -> SearchResponse:
        """More like an indexed image, without the image itself."""
        started = time.perf_counter()
        if not is_content_id(image_id):
            raise NotFound("no such image")
        stored = await asyncio.get_running_loop().run_in_executor(
            None, self._index.vector_of, image_id
        )
        if stored is None:
            raise NotFound("no such image in the index")
        where = options.filter
        options = replace(
            options, filter=replace(where, exclude_ids=(*where.exclude_ids, image_id))
        )
        return await self._respond(np.asarray(stored, dtype=np.float32), options, started)

    def _embed_text(self, text: str) -> Vectors:
        vector: Vectors = self._embedder.embed_texts([text])[0]
        vector.setflags(write=False)  # shared by every hit of the cache
        return vector

    def _decode(self, data: bytes) -> Image.Image:
        return decode_image(data, max_decoded_pixels=self._max_pixels).image

    def _embed_image(self, image: Image.Image) -> Vectors:
        vector: Vectors = self._embedder.embed_images([image])[0]
        return vector

    async def _infer(self, fn: Callable[[T], Vectors], arg: T) -> Vectors:
        with SEARCH_SECONDS.labels("encode").time():
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, arg)

    async def _respond(
        self, vector: Vectors, options: SearchOptions, started: float
    ) -> SearchResponse:
        page = await asyncio.get_running_loop().run_in_executor(
            None, partial(self.page, vector, options)
        )
        return SearchResponse(
            items=[self._item(hit, page.folded.get(hit.id, 0)) for hit in page.hits],
            next_offset=page.next_offset,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def page(self, vector: Vectors, options: SearchOptions) -> Page:
        """One page of a stable order: score, then id; auto cutoff and date order work on the
        whole candidate window (search.max_depth), so every page agrees on them. Folding
        (collapse) works from the first hit on every page, so pages agree on it too."""
        whole_window = options.cutoff == "auto" or options.sort == "date"
        end = options.offset + options.limit
        window = self._max_depth if whole_window else min(end + 1, self._max_depth)
        folded: dict[str, int] = {}
        with SEARCH_SECONDS.labels("vector_search").time():
            while True:
                hits = self._window(vector, window, end, options)
                full = len(hits) >= window
                if options.collapse:
                    hits, folded = fold_same_pictures(hits)
                # folding took hits out: read further while the page is not filled
                if len(hits) > end or not full or window >= self._max_depth:
                    break
                window = min(window * 2, self._max_depth)
        if options.cutoff == "auto":
            hits = autocut(hits)
        if options.sort == "date":
            hits.sort(key=lambda h: (-_when(h), h.id))
        more = len(hits) > end and end < self._max_depth
        return Page(hits[options.offset : end], end if more else None, folded)

    def _window(
        self, vector: Vectors, window: int, end: int, options: SearchOptions
    ) -> list[SearchHit]:
        hits = self._ranked(vector, window, options)
        # Milvus returns any `window` of a group of equal scores at the window's edge: while
        # the page reaches into such a group, widen the window until the group is whole, so
        # that every page of the (score, id) order is exact
        while len(hits) >= window and window < self._max_depth and _tied(hits, end):
            window = min(window * 2, self._max_depth)
            hits = self._ranked(vector, window, options)
        return hits

    def _ranked(self, vector: Vectors, window: int, options: SearchOptions) -> list[SearchHit]:
        hits = self._index.search(
            vector.tolist(), window, where=options.filter, min_score=options.min_score
        )
        excluded = set(options.filter.exclude_ids)
        return sorted((h for h in hits if h.id not in excluded), key=_rank)

    def _item(self, hit: SearchHit, folded: int) -> SearchItem:
        fields = self._items.fields(hit.id, hit.fields)
        score = round(hit.score, SCORE_DIGITS)
        return SearchItem.model_validate({**fields, "score": score, "duplicates": folded})


def fold_same_pictures(hits: list[SearchHit]) -> tuple[list[SearchHit], dict[str, int]]:
    """Each same-picture group (as the worker filed it) once, at its best-ranked image, and
    how many of its other images the results held."""
    shown: dict[str, SearchHit] = {}
    folded: dict[str, int] = {}
    for hit in hits:
        group = str(hit.fields.get("dup_of") or hit.id)
        if group in shown:
            first = shown[group].id
            folded[first] = folded.get(first, 0) + 1
        else:
            shown[group] = hit
    return list(shown.values()), folded


def autocut(hits: list[SearchHit]) -> list[SearchHit]:
    """Keep the results before the largest drop in score (Weaviate's autocut, one jump)."""
    if len(hits) < 3:
        return hits
    gaps = [hits[i].score - hits[i + 1].score for i in range(len(hits) - 1)]
    largest = max(range(len(gaps)), key=gaps.__getitem__)
    mean_other = (sum(gaps) - gaps[largest]) / max(len(gaps) - 1, 1)
    # a gap no larger than the usual spacing is no cliff: keep everything
    return hits[: largest + 1] if gaps[largest] > 2 * mean_other else hits


def _rank(hit: SearchHit) -> tuple[float, str]:
    return (-round(hit.score, SCORE_DIGITS), hit.id)


def _tied(hits: list[SearchHit], end: int) -> bool:
    """Whether the page (up to ``end``) holds a score equal to the window's last one."""
    last_on_page = hits[min(end, len(hits)) - 1]
    return _rank(last_on_page)[0] == _rank(hits[-1])[0]


def _when(hit: SearchHit) -> int:
    """Newest first: the date taken when known, else the upload date."""
    for key in ("taken_at", "created_at"):
        value = hit.fields.get(key)
        if isinstance(value, int):
            return value
    return 0
