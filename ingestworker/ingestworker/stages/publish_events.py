"""Publish events: after Write, each indexed image's `image.indexed` and the albums it joined
(`album.joined`), and each image the batch failed (`image.failed`), for the webhooks that hear
them. Only queued here (shared.webhooks.outbox): the deliverer sends them, in its own
process. A batch run again publishes the same event ids."""

from ingestworker.stages.batch import BatchOutcome, Row
from shared.webhooks import events
from shared.webhooks.outbox import WebhookOutbox
from shared.webhooks.webhook import Event


class PublishEvents:
    def __init__(self, outbox: WebhookOutbox | None) -> None:
        # None: a pipeline that publishes nothing (a reindex: its images are not new)
        self._outbox = outbox
        self._failures_published: set[str] = set()  # the batch's failures, each once

    def __call__(self, rows: list[Row], outcome: BatchOutcome) -> list[Row]:
        if self._outbox is None:
            return rows
        published: list[Event] = []
        for row in rows:
            image = row.image
            published.append(
                events.image_indexed(
                    image.image_id, image.filename, image.created_at, list(row.albums)
                )
            )
            published += [
                events.album_joined(album, image.image_id, image.filename, image.created_at)
                for album in row.albums
            ]
        failed = {i: r for i, r in outcome.failures().items() if i not in self._failures_published}
        published += [events.image_failed(i, reason) for i, reason in failed.items()]
        self._outbox.publish(published)
        self._failures_published |= failed.keys()
        return rows
