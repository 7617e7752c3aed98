"""Query → meaning vectors and keyword words → ranked images (searchapi.ranking), filtered
inside Milvus, then cut, sorted and paged, each hit with why it matched.

A text query is read by the query language (searchapi.query_language, query_plan); ``like``
and ``unlike`` images move its vectors towards and away from theirs (Rocchio).

Inference runs on the inference pool, query images decode on a pool of their own, Milvus calls
on the default pool: never on the event loop. Text vectors of recent queries are kept in a
small LRU.
"""

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import TypeVar

import numpy as np
from PIL import Image

from searchapi.fusion import SCORE_DIGITS
from searchapi.matching import matches
from searchapi.metrics import QUERY_CACHE, SEARCH_SECONDS
from searchapi.query_language import QuerySyntaxError, parse_query
from searchapi.query_plan import QueryPlan, plan_query
from searchapi.query_vectors import mean_of, meaning_vectors, unit
from searchapi.ranking import Ranked, Ranker, SearchQuery, rank_key
from searchapi.schemas import Feedback, FieldMatchItem, SearchItem, SearchOptions, SearchResponse
from shared.config import Limit
from shared.embedding import Embedder, Vectors
from shared.errors import BadQuery, NotFound, Unprocessable
from shared.ids import is_content_id
from shared.image_items import ItemMaker
from shared.images import decode_image
from shared.vectors import SearchHit, VectorIndex
from shared.web.signing import UrlSigner

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    hits: list[SearchHit]
    next_offset: int | None
    # hits folded into each shown one: the same picture, further down (collapse)
    folded: dict[str, int] = field(default_factory=dict)
    semantic: dict[str, float] = field(default_factory=dict)  # cosine of each hit shown
    relevance: dict[str, float] = field(default_factory=dict)  # fused, when both sides ran


class SearchService:
    def __init__(
        self,
        embedder: Embedder,
        index: VectorIndex,
        ranker: Ranker,
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
        self._ranker = ranker
        self._executor = executor
        self._image_executor = image_executor
        self._items = ItemMaker(url_prefix, url_signer.sign)
        self._max_depth = max_depth
        self._max_pixels = max_pixels
        self._text_vector = lru_cache(maxsize=query_cache_size)(self._embed_text)
        QUERY_CACHE.source = self._text_vector.cache_info

    @property
    def has_keywords(self) -> bool:
        return self._ranker.has_keywords

    async def by_text(
        self, text: str | None, options: SearchOptions, feedback: Feedback = Feedback()
    ) -> SearchResponse:
        """A query in the query language, and/or images to search like (and unlike)."""
        started = time.perf_counter()
        plan = self._plan(text) if text else None
        if plan is None and not feedback.like:
            raise Unprocessable("give a text query, or images to search like (like=...)")
        if feedback.like or feedback.unlike:
            where = options.filter
            shown = (*where.exclude_ids, *feedback.like, *feedback.unlike)
            options = replace(options, filter=replace(where, exclude_ids=shown))
        tokens = plan.keyword_tokens if plan and self.has_keywords else ()
        # the keyword side needs no vector: it runs while the text is embedded
        words = self._ranker.look_up_words(
            tokens,
            self._first_window(options),
            bool(plan and plan.has_meaning) or bool(feedback.like),
            options.filter,
        )
        loop = asyncio.get_running_loop()
        like, unlike = (
            await loop.run_in_executor(None, self._examples, feedback)
            if feedback.like or feedback.unlike
            else (None, None)
        )
        embed = partial(meaning_vectors, plan, self._text_vector, self._embedder.dim, like, unlike)
        with SEARCH_SECONDS.labels("encode").time():
            vectors = await loop.run_in_executor(self._executor, embed)
        query = SearchQuery(
            vectors,
            tokens,
            plan.clauses if plan else (),
            plan.excluded if plan else (),
            words,
        )
        return await self._respond(query, options, started)

    async def meaning_of(
        self, text: str | None, feedback: Feedback = Feedback()
    ) -> tuple[QueryPlan | None, list[Vectors]]:
        """What a query is, as by_text reads it: its plan (None without text) and its
        meaning's vectors, one per reading (none for field terms only)."""
        plan = self._plan(text) if text else None
        if plan is None and not feedback.like:
            raise Unprocessable("give a text query, or images to search like (like=...)")
        loop = asyncio.get_running_loop()
        like, unlike = await loop.run_in_executor(None, self._examples, feedback)
        embed = partial(meaning_vectors, plan, self._text_vector, self._embedder.dim, like, unlike)
        vectors = await loop.run_in_executor(self._executor, embed)
        return plan, list(vectors)

    @property
    def model_id(self) -> str:
        return self._embedder.model_id

    def _plan(self, text: str) -> QueryPlan:
        try:
            plan = plan_query(parse_query(text))
        except QuerySyntaxError as exc:
            raise BadQuery(str(exc), exc.position) from exc
        if not plan.has_meaning and not self.has_keywords:
            raise Unprocessable(
                "terms restricted to a field (tag:, file:, text:, place:) need keyword search, "
                "which this Milvus does not have (2.5 or newer has it)"
            )
        return plan

    def _examples(self, feedback: Feedback) -> tuple[Vectors | None, Vectors | None]:
        """The mean vector of the liked images and of the unliked ones (None: none given)."""
        wanted = (*feedback.like, *feedback.unlike)
        if not wanted:
            return None, None
        stored = self._index.vectors_of(wanted)
        missing = [i for i in wanted if i not in stored]
        if missing:
            raise NotFound(f"not in the index: {', '.join(missing[:5])}")
        return mean_of(stored, feedback.like), mean_of(stored, feedback.unlike)

    async def by_image(
        self, data: bytes, options: SearchOptions, text: str | None = None, weight: float = 0.5
    ) -> SearchResponse:
        """Any image (validated like an upload); with text, a blend: ``weight`` on the image."""
        started = time.perf_counter()
        vector = await self.image_meaning(data, text, weight)
        return await self._respond(SearchQuery((vector,)), options, started)

    async def image_meaning(self, data: bytes, text: str | None, weight: float) -> Vectors:
        """An image's query vector as by_image searches with it."""
        # decoding runs on its own pool: a huge query image never holds up text queries
        image = await asyncio.get_running_loop().run_in_executor(
            self._image_executor, self._decode, data
        )
        vector = await self._infer(self._embed_image, image)
        if text:
            text_vector = await self._infer(self._text_vector, text)
            vector = unit(weight * vector + (1 - weight) * text_vector)
        return vector

    async def by_vectors(
        self, vectors: Sequence[Sequence[float]] | Sequence[Vectors], options: SearchOptions
    ) -> SearchResponse:
        """Search by meaning alone with vectors already made (a saved image query's)."""
        started = time.perf_counter()
        query = SearchQuery(tuple(np.asarray(v, dtype=np.float32) for v in vectors))
        return await self._respond(query, options, started)

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
        vector = np.asarray(stored, dtype=np.float32)
        return await self._respond(SearchQuery((vector,)), options, started)

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
        self, query: SearchQuery, options: SearchOptions, started: float
    ) -> SearchResponse:
        page = await asyncio.get_running_loop().run_in_executor(
            None, partial(self.page, query, options)
        )
        return SearchResponse(
            items=[self._item(hit, page, query) for hit in page.hits],
            next_offset=page.next_offset,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            keywords=self.has_keywords,
        )

    def page(self, query: SearchQuery, options: SearchOptions) -> Page:
        """One page of a stable order: score, then id; auto cutoff and date order work on the
        whole candidate window (search.max_depth), so every page agrees on them. Folding
        (collapse) works from the first hit on every page, so pages agree on it too."""
        end = options.offset + options.limit
        window = self._first_window(options)
        folded: dict[str, int] = {}
        with SEARCH_SECONDS.labels("vector_search").time():
            while True:
                ranked = self._window(query, window, end, options)
                hits = ranked.hits
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
        shown = hits[options.offset : end]
        semantic = {h.id: ranked.semantic[h.id] for h in shown if h.id in ranked.semantic}
        relevance = {h.id: h.score for h in shown} if ranked.fused else {}
        return Page(shown, end if more else None, folded, semantic, relevance)

    def _first_window(self, options: SearchOptions) -> int:
        """How many hits a page reads first: to its end and one more (is there a next
        page?), or the whole candidate window where the cutoff or date order needs it."""
        if options.cutoff == "auto" or options.sort == "date":
            return self._max_depth
        return min(options.offset + options.limit + 1, self._max_depth)

    def _window(self, query: SearchQuery, window: int, end: int, options: SearchOptions) -> Ranked:
        ranked = self._ranker.rank(query, window, options)
        # Milvus returns any `window` of a group of equal scores at the window's edge: while
        # the page reaches into such a group, widen the window until the group is whole, so
        # that every page of the (score, id) order is exact
        while len(ranked.hits) >= window and window < self._max_depth and _tied(ranked.hits, end):
            window = min(window * 2, self._max_depth)
            ranked = self._ranker.rank(query, window, options)
        return ranked

    def _item(self, hit: SearchHit, page: Page, query: SearchQuery) -> SearchItem:
        fields = self._items.fields(hit.id, hit.fields)
        semantic = page.semantic.get(hit.id)
        relevance = page.relevance.get(hit.id)
        found = matches(query.terms, hit.fields) if query.terms else []
        return SearchItem.model_validate(
            {
                **fields,
                "score": None if semantic is None else round(semantic, SCORE_DIGITS),
                "relevance": None if relevance is None else round(relevance, SCORE_DIGITS),
                "matched": [FieldMatchItem(field=m.field, words=list(m.words)) for m in found],
                "duplicates": page.folded.get(hit.id, 0),
            }
        )


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


def _tied(hits: list[SearchHit], end: int) -> bool:
    """Whether the page (up to ``end``) holds a score equal to the window's last one."""
    last_on_page = hits[min(end, len(hits)) - 1]
    return rank_key(last_on_page)[0] == rank_key(hits[-1])[0]


def _when(hit: SearchHit) -> int:
    """Newest first: the date taken when known, else the upload date."""
    for key in ("taken_at", "created_at"):
        value = hit.fields.get(key)
        if isinstance(value, int):
            return value
    return 0
