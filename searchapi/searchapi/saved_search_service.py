"""Saved searches: any query the box runs, kept under a name, paged as a live album (the same
items, order, folding and filters as search), compiled for the live model when saved and again
when the model changes (searchapi.saved_criteria: what the worker matches new images by)."""

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from searchapi.saved_criteria import match_criteria
from searchapi.schemas import MAX_LIMIT, Feedback, SearchOptions, SearchResponse
from searchapi.service import SearchService
from shared.embedding import Vectors
from shared.errors import BadRequest, Conflict, NotFound, Unprocessable
from shared.log import get_logger
from shared.saved_searches import ALBUMS
from shared.saved_searches.definition import (
    MAX_NAME_CHARS,
    SavedQuery,
    SavedSearch,
    criteria_to_json,
)
from shared.saved_searches.store import SavedSearchStore
from shared.vectors import ImageFilter, VectorIndex
from shared.webhooks.hook_store import WebhookStore

log = get_logger(__name__)
# a search id as made here: 32 hex characters
ID_CHARS = frozenset("0123456789abcdef")


class SavedSearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    query: SavedQuery

    _name = field_validator("name")(lambda name: _clean_name(name))


class SavedSearchPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=MAX_NAME_CHARS)
    query: SavedQuery | None = None

    _name = field_validator("name")(lambda name: None if name is None else _clean_name(name))


class SavedSearchOut(BaseModel):
    id: str
    name: str
    query: SavedQuery
    model: str = Field(description="the model its query vectors and threshold are for")
    min_score: float | None = Field(description="the meaning score an image needs to belong")
    min_score_from: Literal["given", "cutoff", "none"] = Field(
        description="given by the user; found where the results dropped most when saved; "
        "none: a query of words only (an image belongs by holding them)"
    )
    created_at: datetime
    updated_at: datetime
    seen_at: datetime = Field(description="when its first page was last looked at")
    new: int = Field(
        description="images uploaded since seen_at that joined it as they were indexed or "
        "enriched (counted over at most search.facet_rows recent images)"
    )
    images: str = Field(description="the album: its images, paged as a search")

    @classmethod
    def of(cls, saved: SavedSearch, new: int) -> "SavedSearchOut":
        fields = saved.model_dump(exclude={"criteria"})
        return cls(**fields, new=new, images=f"/api/v1/saved-searches/{saved.id}/images")


class SavedSearchService:
    def __init__(
        self,
        store: SavedSearchStore,
        search: SearchService,
        index: VectorIndex,
        max_searches: int,
        max_depth: int,
        max_rows: int,
        hooks: WebhookStore | None = None,
    ) -> None:
        self._store = store
        self._hooks = hooks
        self._search = search
        self._index = index
        self._max_searches = max_searches
        self._max_depth = max_depth
        self._max_rows = max_rows

    async def create(
        self, body: SavedSearchIn, image: tuple[bytes, str] | None = None
    ) -> SavedSearch:
        """``image``: an uploaded query image and its content type, kept once it reads."""
        if await asyncio.to_thread(self._store.count) >= self._max_searches:
            raise Conflict(
                f"at most {self._max_searches} saved searches (search.max_saved_searches)"
            )
        now = datetime.now(UTC)
        search_id = uuid.uuid4().hex
        query = body.query
        if image is not None:
            data, content_type = image
            query = query.model_copy(update={"image": hashlib.sha256(data).hexdigest()})
            compiled = await self._compiled(search_id, query, image_data=data)
            await asyncio.to_thread(self._store.put_image, data, content_type)
        else:
            compiled = await self._compiled(search_id, query)
        saved = SavedSearch(
            id=search_id,
            name=body.name,
            query=query,
            **compiled,
            created_at=now,
            updated_at=now,
            # upload times are whole seconds: one uploaded in the second it was saved is new
            seen_at=now - timedelta(seconds=1),
        )
        await self._save(saved, changed=True)
        log.info("saved_search_created", search_id=search_id, model=saved.model)
        return saved

    async def all(self) -> list[SavedSearch]:
        found = await asyncio.to_thread(lambda: list(self._store.all()))
        return sorted(found, key=lambda s: (s.created_at, s.id))

    async def get(self, search_id: str) -> SavedSearch:
        if not search_id or not set(search_id) <= ID_CHARS or len(search_id) != 32:
            raise NotFound("no such saved search")
        return await asyncio.to_thread(self._store.get, search_id)

    async def update(self, search_id: str, patch: SavedSearchPatch) -> SavedSearch:
        saved = await self.get(search_id)
        changes: dict[str, object] = {"updated_at": datetime.now(UTC)}
        if patch.name is not None:
            changes["name"] = patch.name
        if patch.query is not None:
            changes["query"] = patch.query
            changes.update(await self._compiled(search_id, patch.query))
        before = saved.query.image
        saved = saved.model_copy(update=changes)
        await self._save(saved, changed=patch.query is not None)
        await self._forget_image(before)
        return saved

    async def delete(self, search_id: str) -> None:
        """Gone, with its webhooks (their waiting deliveries are dropped when they come due)
        and its query image unless another search holds it."""
        saved = await self.get(search_id)
        await asyncio.to_thread(self._store.delete, search_id)
        await asyncio.to_thread(self._store.mark_changed)
        await self._forget_image(saved.query.image)
        hooks = await asyncio.to_thread(self._delete_hooks, search_id)
        log.info("saved_search_deleted", search_id=search_id, webhooks=hooks)

    def _delete_hooks(self, search_id: str) -> int:
        if self._hooks is None:
            return 0
        mine = [hook.id for hook in self._hooks.all() if hook.saved_search_id == search_id]
        for hook_id in mine:
            self._hooks.delete(hook_id)
        if mine:
            self._hooks.mark_changed()
        return len(mine)

    async def images(self, search_id: str, limit: int, offset: int) -> SearchResponse:
        """The album's page: the saved query searched with its threshold and filters."""
        if offset + limit > self._max_depth:
            raise Unprocessable(f"offset + limit must be at most {self._max_depth}")
        saved = await self.get(search_id)
        compile_again = saved.model != self._search.model_id  # another model went live
        if compile_again:
            saved = saved.model_copy(update=await self._compiled(search_id, saved.query, saved))
        if offset == 0:
            saved = saved.model_copy(update={"seen_at": datetime.now(UTC)})
        if compile_again or offset == 0:
            await self._save(saved, changed=compile_again)
        query = saved.query
        options = SearchOptions(
            limit=limit,
            offset=offset,
            min_score=saved.min_score,
            collapse=True,
            filter=query.filters.image_filter(),
        )
        if query.image:
            return await self._search.by_vectors(saved.match_criteria().vectors, options)
        return await self._search.by_text(_text(query), options, _feedback(query))

    async def compile_for_live_model(self) -> int:
        """Every saved search compiled for another model, compiled again for the live one (run
        when searchapi starts): the workers of a new model match new images against all of
        them at once, not each only after its album is read. How many were compiled."""
        searches = await self.all()
        compiled = 0
        for saved in searches:
            if saved.model == self._search.model_id:
                continue
            try:
                fields = await self._compiled(saved.id, saved.query, saved)
            except Unprocessable as exc:  # its cutoff finds no cliff under this model yet
                log.warning("saved_search_not_compiled", search_id=saved.id, reason=exc.detail)
                continue
            await asyncio.to_thread(self._store.put, saved.model_copy(update=fields))
            compiled += 1
        if compiled:
            await asyncio.to_thread(self._store.mark_changed)
            log.info("saved_searches_compiled_for_model", compiled=compiled)
        return compiled

    async def new_since_seen(self, searches: Sequence[SavedSearch]) -> dict[str, int]:
        """For each, the images uploaded since its seen_at that joined it (one read of the
        recent rows for all of them)."""
        if not searches:
            return {}
        # upload times are whole seconds: one of the second the album was looked at is not new
        seen = {s.id: int(s.seen_at.timestamp()) for s in searches}
        recent = await asyncio.to_thread(
            self._index.rows, ImageFilter(created_from=min(seen.values()) + 1),
            [ALBUMS, "created_at"], self._max_rows,
        )  # fmt: skip
        counts = dict.fromkeys((s.id for s in searches), 0)
        for row in recent:
            albums, created = row.get(ALBUMS), row.get("created_at")
            if not isinstance(albums, list) or not isinstance(created, int):
                continue
            for album in albums:
                if album in counts and created > seen[album]:
                    counts[album] += 1
        return counts

    async def _save(self, saved: SavedSearch, changed: bool) -> None:
        """Store it; ``changed``: what it matches changed (the workers read them again)."""
        await asyncio.to_thread(self._store.put, saved)
        if changed:
            await asyncio.to_thread(self._store.mark_changed)

    async def _compiled(
        self,
        search_id: str,
        query: SavedQuery,
        before: SavedSearch | None = None,
        image_data: bytes | None = None,
    ) -> dict[str, object]:
        """The fields a query compiles to for the live model; a threshold the user gave is
        kept, one found by the cutoff is found again. An image query's meaning is its image's
        (read from storage unless given), its text blended in as search blends it."""
        text, feedback = _text(query), _feedback(query)
        if query.image:
            data = image_data or await self._query_image(query.image)
            plan = None
            vectors = [await self._search.image_meaning(data, text, query.image_weight)]
        else:
            plan, vectors = await self._search.meaning_of(text, feedback)
        min_score = query.min_score
        source: Literal["given", "cutoff", "none"] = "given"
        if not vectors:
            min_score, source = None, "none"
        elif min_score is None:
            min_score, source = await self._cutoff_score(query, vectors), "cutoff"
        where = query.filters.image_filter()
        where = replace(where, exclude_ids=(*where.exclude_ids, *feedback.like, *feedback.unlike))
        criteria = match_criteria(search_id, plan, vectors, min_score or 1.0, where)
        if before is not None:
            log.info("saved_search_compiled_again", search_id=search_id, model=before.model)
        return {
            "model": self._search.model_id,
            "min_score": min_score,
            "min_score_from": source,
            "criteria": criteria_to_json(criteria),
        }

    async def _forget_image(self, image_id: str | None) -> None:
        """A query image no saved search holds any more is deleted."""
        if image_id and not any(s.query.image == image_id for s in await self.all()):
            await asyncio.to_thread(self._store.delete_image, image_id)

    async def _query_image(self, image_id: str) -> bytes:
        try:
            return await asyncio.to_thread(self._store.image, image_id)
        except NotFound:
            raise Unprocessable(
                f"no query image {image_id[:64]!r} (POST /api/v1/saved-searches/image keeps one)"
            ) from None

    async def _cutoff_score(self, query: SavedQuery, vectors: Sequence[Vectors]) -> float:
        """Where cutoff=auto cuts this query's results now, as a meaning score (refused where
        they show no cliff to cut at)."""
        window = SearchOptions(
            limit=min(MAX_LIMIT, self._max_depth), filter=query.filters.image_filter()
        )
        text, feedback = _text(query), _feedback(query)

        async def run(options: SearchOptions) -> SearchResponse:
            if query.image:
                return await self._search.by_vectors(vectors, options)
            return await self._search.by_text(text, options, feedback)

        everything = await run(window)
        kept = await run(replace(window, cutoff="auto"))
        scores = [item.score for item in kept.items if item.score is not None]
        if not scores or len(kept.items) == len(everything.items):
            raise Unprocessable(
                "the results show no clear point to cut at yet: give query.min_score (the "
                "meaning score an image needs to belong; search with min_score to try one)"
            )
        dropped = [i.score for i in everything.items[len(kept.items) :] if i.score is not None]
        # halfway down the cliff: the last image kept stays in, the first one cut stays out
        return (min(scores) + max(dropped)) / 2 if dropped else min(scores)


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or not name.isprintable():
        raise ValueError("a name is printable text, not blank")
    return name


def _text(query: SavedQuery) -> str | None:
    if query.text is None:
        return None
    text = query.text.strip()
    if not text:
        raise BadRequest("query.text must not be blank")
    return text


def _feedback(query: SavedQuery) -> Feedback:
    return Feedback(tuple(dict.fromkeys(query.like)), tuple(dict.fromkeys(query.unlike)))
