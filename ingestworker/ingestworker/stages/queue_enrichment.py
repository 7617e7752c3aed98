"""Queue enrichment: after Write, the indexed rows go to the enrichment queue. They are
searchable already; what enrichment adds (place, text in the picture, tags) follows on
workers of its own. A row that carries every enrichment already (a reindex) is not queued."""

from ingestworker.stages.batch import BatchOutcome, Row
from shared.enrichment import is_enriched
from shared.queue import TaskQueue
from shared.state import EnrichBacklog


class QueueEnrichment:
    def __init__(self, queue: TaskQueue, backlog: EnrichBacklog, enabled: bool = True) -> None:
        self._queue = queue
        self._backlog = backlog
        self._enabled = enabled

    def __call__(self, rows: list[Row], outcome: BatchOutcome) -> list[Row]:
        if not self._enabled:
            return rows
        wanted = [row.image_id for row in rows if not is_enriched(row.image.facts)]
        if wanted:
            # counted before it is queued: a fast enrichment never finishes before the count
            self._backlog.add_to_enrich(wanted)
            self._queue.enqueue_enrich(wanted)
        return rows
