"""The index stages, in order: prepare → embed → file duplicates → match saved searches →
write → queue enrichment → publish events.
Each is one class with one job, built by the container (container.py) and run by
service.pipeline.IndexPipeline.
A stage after the model takes and returns rows (batch.RowStage) and runs on the writer thread.
"""

from ingestworker.stages.batch import BatchOutcome, PreparedImage, Row, RowStage
from ingestworker.stages.embed import Embed
from ingestworker.stages.match_saved_searches import MatchSavedSearches
from ingestworker.stages.near_duplicates import FileDuplicates
from ingestworker.stages.prepare import Prepare
from ingestworker.stages.publish_events import PublishEvents
from ingestworker.stages.queue_enrichment import QueueEnrichment
from ingestworker.stages.write import Write

__all__ = [
    "BatchOutcome",
    "Embed",
    "FileDuplicates",
    "MatchSavedSearches",
    "Prepare",
    "PreparedImage",
    "PublishEvents",
    "QueueEnrichment",
    "Row",
    "RowStage",
    "Write",
]
