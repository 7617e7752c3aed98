"""Facets: how the images a query (or the library, filtered) holds spread over places, tags,
years and cameras, for filters one click away. Counted over the query's best ``depth`` results,
or over at most ``rows`` images of the filtered library: bounded, and said so (``complete``)."""

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from searchapi.schemas import SearchOptions
from searchapi.service import SearchService
from shared.vectors import VectorIndex
from shared.vectors.milvus_client import UNKNOWN_TIME
from shared.vectors.protocol import ImageFilter

# the values each facet lists, most frequent first
TOP = 12
FACET_FIELDS = ["tags", "auto_tags", "city", "country", "taken_at", "camera"]


class FacetValue(BaseModel):
    value: str
    count: int


class FacetsResponse(BaseModel):
    counted: int = Field(description="the images counted")
    complete: bool = Field(
        description="every image the query or filters keep was counted (false: the best "
        "search.facet_depth results, or search.facet_rows images of the library)"
    )
    countries: list[FacetValue] = Field(description="filter with place=")
    cities: list[FacetValue] = Field(description="filter with place=")
    tags: list[FacetValue] = Field(description="filter with tags=")
    auto_tags: list[FacetValue] = Field(description="filter with auto_tags=")
    years: list[FacetValue] = Field(description="taken in; filter with taken_from / taken_to")
    cameras: list[FacetValue]


class FacetService:
    def __init__(self, search: SearchService, index: VectorIndex, depth: int, rows: int) -> None:
        self._search = search
        self._index = index
        self._depth = depth
        self._rows = rows

    def library(self, where: ImageFilter) -> FacetsResponse:
        """The filtered library's facets (blocking: run in a thread)."""
        rows = self._index.rows(where, FACET_FIELDS, self._rows + 1)
        return count_facets(rows[: self._rows], complete=len(rows) <= self._rows)

    async def query(self, text: str, options: SearchOptions) -> FacetsResponse:
        """The facets of a text query's best results, as search ranks and cuts them."""
        options = replace(options, limit=self._depth, offset=0)
        response = await self._search.by_text(text, options)
        found = await asyncio.get_running_loop().run_in_executor(
            None, self._index.get, [item.id for item in response.items]
        )
        rows = [found[item.id] for item in response.items if item.id in found]
        return count_facets(rows, complete=response.next_offset is None)


def count_facets(rows: Iterable[Mapping[str, object]], complete: bool) -> FacetsResponse:
    countries: Counter[str] = Counter()
    cities: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    auto_tags: Counter[str] = Counter()
    years: Counter[str] = Counter()
    cameras: Counter[str] = Counter()
    counted = 0
    for row in rows:
        counted += 1
        for counter, name in ((countries, "country"), (cities, "city"), (cameras, "camera")):
            if value := row.get(name):
                counter[str(value)] += 1
        for counter, name in ((tags, "tags"), (auto_tags, "auto_tags")):
            listed = row.get(name)
            if isinstance(listed, list | tuple):
                counter.update({str(t) for t in listed})  # once per image
        taken = row.get("taken_at")
        if isinstance(taken, int) and taken != UNKNOWN_TIME:
            years[str(datetime.fromtimestamp(taken, UTC).year)] += 1
    return FacetsResponse(
        counted=counted,
        complete=complete,
        countries=_top(countries),
        cities=_top(cities),
        tags=_top(tags),
        auto_tags=_top(auto_tags),
        years=_top(years),
        cameras=_top(cameras),
    )


def _top(counter: Counter[str]) -> list[FacetValue]:
    # most frequent first, then by value: the same library lists the same way every time
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    return [FacetValue(value=value, count=count) for value, count in ranked]
