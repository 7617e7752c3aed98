"""What the enrichment stages add to an indexed image, as both sides read it.

Enrichment runs after an image is searchable (ingestworker.enrichers, on its own queue). Its
facts and its state live on the image's row, next to what they describe: the row says which
enrichments are done, skipped or failed (with the reason); one it does not mention is pending.
The same record goes into the image's details object, so a reindex carries it.
"""

from collections.abc import Mapping
from enum import StrEnum

# the enrichments, in the order they run
ENRICHMENTS = ("place", "ocr", "tags")
# the row field holding {enrichment: {"state": ..., "reason": ...}}
STATE_FIELD = "enrichment"
# the row fields the place enrichment writes (GPS itself is read at indexing: lat, lon)
PLACE_FIELDS = ("place", "city", "region", "country", "country_code")
# the row fields the text-in-the-picture enrichment writes: its words, and its lines with
# their boxes
OCR_FIELDS = ("text", "ocr")
# the tags enrichment's, apart from the user's own tags; and the auto-tags the user removed,
# never given again (kept with the facts, so a reindex keeps them removed)
AUTO_TAGS = "auto_tags"
REMOVED_AUTO_TAGS = "removed_auto_tags"
# every row field an enrichment writes: what a reindex carries and a status shows
FACT_FIELDS = (*PLACE_FIELDS, *OCR_FIELDS, AUTO_TAGS, REMOVED_AUTO_TAGS, STATE_FIELD)
# the coordinates the index stage keeps from EXIF, for the place enrichment
GPS_FIELDS = ("lat", "lon")


class EnrichmentState(StrEnum):
    pending = "pending"  # queued, or not looked at yet
    done = "done"
    skipped = "skipped"  # nothing to do for this image (no GPS): the reason says why
    failed = "failed"  # the reason says why; the image stays indexed and searchable


def enrichment_of(fields: Mapping[str, object]) -> dict[str, dict[str, str]]:
    """Each enrichment's state for a stored row (pending where the row says nothing)."""
    recorded = fields.get(STATE_FIELD)
    known = recorded if isinstance(recorded, Mapping) else {}
    out = {}
    for name in ENRICHMENTS:
        entry = known.get(name)
        out[name] = (
            {k: str(v) for k, v in entry.items() if k in ("state", "reason")}
            if isinstance(entry, Mapping) and entry.get("state") in EnrichmentState.__members__
            else {"state": EnrichmentState.pending.value}
        )
    return out


def is_enriched(fields: Mapping[str, object]) -> bool:
    """Whether every enrichment has run on this row (none pending)."""
    return all(
        entry["state"] != EnrichmentState.pending for entry in enrichment_of(fields).values()
    )


def carried_facts(facts: Mapping[str, object]) -> dict[str, object]:
    """The enrichment fields of a saved record (a details object's "facts"), nothing else;
    auto-tags the user removed stay out."""
    carried = {name: facts[name] for name in FACT_FIELDS if name in facts}
    return {**carried, **without_removed(carried)}


def without_removed(fields: Mapping[str, object]) -> dict[str, object]:
    """``auto_tags`` less those in ``removed_auto_tags`` ({} where there are none)."""
    found, removed = fields.get(AUTO_TAGS), fields.get(REMOVED_AUTO_TAGS)
    if not isinstance(found, list):
        return {}
    gone = set(removed) if isinstance(removed, list) else set()
    return {AUTO_TAGS: [tag for tag in found if tag not in gone]}
