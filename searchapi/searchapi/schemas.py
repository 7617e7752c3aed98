"""searchapi's request parameters and response bodies."""

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from shared.errors import Unprocessable
from shared.image_items import ImageFilterParams, ImageItem
from shared.vectors import ImageFilter

# results per page, at most
MAX_LIMIT = 200
# images a search may be asked to look like, and unlike, at most (each)
MAX_FEEDBACK_IMAGES = 50


@dataclass(frozen=True)
class SearchOptions:
    limit: int = 20
    offset: int = 0
    min_score: float | None = None
    cutoff: Literal["auto", "none"] = "none"
    sort: Literal["relevance", "date"] = "relevance"
    collapse: bool = False
    filter: ImageFilter = field(default_factory=ImageFilter)


@dataclass(frozen=True)
class Feedback:
    """Images the results should look like, and unlike (ids, each in the index)."""

    like: tuple[str, ...] = ()
    unlike: tuple[str, ...] = ()


class SearchParams(ImageFilterParams):
    """Paging, cutoffs, order and filters, shared by every kind of query."""

    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, description="results to skip; offset + limit ≤ search.max_depth")
    min_score: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="only meaning scores (`score`, cosine) above this; an image holding every "
        "word of the query literally is kept whatever its score",
    )
    cutoff: Literal["auto", "none"] = Field(
        "none",
        description="auto: drop the tail after the largest drop in the order's score "
        "(`relevance` when the query's words were looked up too, else `score`)",
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


class FieldMatchItem(BaseModel):
    field: Literal["file", "caption", "tag", "autotag", "text", "place"]
    words: list[str] = Field(description="the query's words found in this field, lower case")


class SearchItem(ImageItem):
    score: float | None = Field(
        description="meaning: cosine similarity to the query, -1..1 (null when the query had "
        "only literal terms, such as tag:dog)"
    )
    relevance: float | None = Field(
        None,
        description="the rank of the fused list (meaning and keywords), 0..1, 1 being first "
        "on both sides; null when only the meaning side ranked",
    )
    matched: list[FieldMatchItem] = Field(
        default_factory=list, description="why it matched: the fields holding the query's words"
    )


class SearchResponse(BaseModel):
    items: list[SearchItem]
    next: str | None = Field(None, description="the next page (GET queries), if any")
    next_offset: int | None = Field(None, description="offset of the next page, if any")
    took_ms: float
    keywords: bool = Field(
        True,
        description="whether this server looks up words too; false: a Milvus without BM25, "
        "search by meaning only (field terms such as tag:dog are refused)",
    )
