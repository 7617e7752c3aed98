"""searchapi's request parameters and response bodies."""

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from shared.errors import Unprocessable
from shared.image_items import ImageFilterParams, ImageItem
from shared.vectors import ImageFilter

# results per page, at most
MAX_LIMIT = 200


@dataclass(frozen=True)
class SearchOptions:
    limit: int = 20
    offset: int = 0
    min_score: float | None = None
    cutoff: Literal["auto", "none"] = "none"
    sort: Literal["relevance", "date"] = "relevance"
    collapse: bool = False
    filter: ImageFilter = field(default_factory=ImageFilter)


class SearchParams(ImageFilterParams):
    """Paging, cutoffs, order and filters, shared by every kind of query."""

    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, description="results to skip; offset + limit ≤ search.max_depth")
    min_score: float | None = Field(None, ge=-1, le=1, description="only scores above this")
    cutoff: Literal["auto", "none"] = Field(
        "none", description="auto: drop the tail after the largest drop in score"
    )
    sort: Literal["relevance", "date"] = Field(
        "relevance", description="date: newest taken (else uploaded) first, after the cutoffs"
    )
    collapse: bool = Field(
        True,
        description="show a same-picture group once (its best match), with `duplicates`: how "
        "many of its other images the results held",
    )

    def options(self, max_depth: int) -> SearchOptions:
        if self.offset + self.limit > max_depth:
            raise Unprocessable(f"offset + limit must be at most {max_depth} (search.max_depth)")
        return SearchOptions(
            limit=self.limit,
            offset=self.offset,
            min_score=self.min_score,
            cutoff=self.cutoff,
            sort=self.sort,
            collapse=self.collapse,
            filter=self.image_filter(),
        )


class SearchItem(ImageItem):
    score: float = Field(description="cosine similarity to the query, -1..1")


class SearchResponse(BaseModel):
    items: list[SearchItem]
    next: str | None = Field(None, description="the next page (GET queries), if any")
    next_offset: int | None = Field(None, description="offset of the next page, if any")
    took_ms: float
