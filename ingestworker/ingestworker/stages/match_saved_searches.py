"""Match saved searches: each new image against every saved search, before Write, so the
albums it joins go into its row with everything else (no second write). Its facts from
enrichment (text, place, auto-tags) are matched again when they land (service.enriching)."""

from dataclasses import replace

from ingestworker.service.saved_search_source import SavedSearchSource
from ingestworker.stages.batch import BatchOutcome, Row
from ingestworker.stages.write import record_of
from shared.vectors.milvus_index import stored_fields


class MatchSavedSearches:
    def __init__(self, searches: SavedSearchSource) -> None:
        self._searches = searches

    def __call__(self, rows: list[Row], outcome: BatchOutcome) -> list[Row]:
        matcher = self._searches.matcher()
        if not len(matcher):
            return rows
        return [
            replace(
                row,
                albums=tuple(
                    matcher.match(row.image_id, row.vector, stored_fields(record_of(row)))
                ),
            )
            for row in rows
        ]
