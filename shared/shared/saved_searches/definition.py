"""A saved search as it is stored: its name, the query as the user gave it (so it can be
compiled again, for another model), and what it matches new images by, compiled for the model
that was live (``model``). Stored in object storage (shared.saved_searches.store), beside the
originals: durable, and read by every service that needs it (searchapi pages the album, the
worker matches new images)."""

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.image_items.filters import ImageFilterParams
from shared.saved_searches.criteria import MatchCriteria
from shared.vectors.protocol import ImageFilter

MAX_TEXT_CHARS = 4000
MAX_FEEDBACK_IMAGES = 50
MAX_NAME_CHARS = 200


class SavedQuery(BaseModel):
    """What the search box runs: text in the query language and/or images to search like
    (and unlike), or an uploaded image (with text blended into its meaning), the filters, and
    the meaning score an image needs to belong."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, min_length=1, max_length=MAX_TEXT_CHARS)
    like: list[str] = Field(default_factory=list, max_length=MAX_FEEDBACK_IMAGES)
    unlike: list[str] = Field(default_factory=list, max_length=MAX_FEEDBACK_IMAGES)
    filters: ImageFilterParams = Field(default_factory=ImageFilterParams)
    image: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="an uploaded query image (saved by POST /api/v1/saved-searches/image), by "
        "its sha256: kept in object storage, so the query is embedded again for another model",
    )
    image_weight: float = Field(
        0.5, ge=0, le=1, description="with an image and text: the image's share of the meaning"
    )
    min_score: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="the meaning score (cosine) an image needs to belong; an image holding "
        "every word of the query belongs whatever its score. Left out: the score where the "
        "query's results drop most when it is saved (as cutoff=auto cuts), for this model",
    )


class SavedSearch(BaseModel):
    id: str
    name: str
    query: SavedQuery
    model: str  # the model its vectors and threshold are for
    min_score: float | None  # as compiled: given, or found by the cutoff (min_score_from)
    min_score_from: Literal["given", "cutoff", "none"]
    criteria: dict[str, Any]  # MatchCriteria, as JSON
    created_at: datetime
    updated_at: datetime
    seen_at: datetime  # when its images were last looked at ("new since")

    def match_criteria(self) -> MatchCriteria:
        return criteria_from_json(self.criteria)


def criteria_to_json(criteria: MatchCriteria) -> dict[str, Any]:
    out = asdict(criteria)
    out["where"] = asdict(criteria.where) if criteria.where is not None else None
    return out


def criteria_from_json(data: dict[str, Any]) -> MatchCriteria:
    where: dict[str, Any] | None = data.get("where")
    return MatchCriteria(
        search_id=str(data["search_id"]),
        vectors=tuple(tuple(float(x) for x in v) for v in data["vectors"]),
        min_score=float(data["min_score"]),
        clauses=tuple(tuple(tuple(way) for way in clause) for clause in data["clauses"]),
        excluded=tuple(data.get("excluded", ())),
        where=_filter_from_json(where) if where else None,
    )


def _filter_from_json(where: dict[str, Any]) -> ImageFilter:
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in where.items()}
    return ImageFilter(**fields)
