"""Enriching indexed images: each enrichment stage (ingestworker.enrichers) reads the row,
and what they found goes back onto the row in every collection (a reindex's too) and into
the image's details object (what a reindex reads). An enrichment that fails records why and
leaves the image as it was: searchable, with the other enrichments' facts. With its new facts
the image is matched against the saved searches again (a receipt found by its text joins
"receipts"), in the same write, and each album it joins is published (webhooks) before it
is written: a write that fails is run again and publishes the same event ids."""

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from ingestworker.enrichers import Enriched, Enricher, EnrichTarget
from shared.details import update_details
from shared.enrichment import STATE_FIELD, EnrichmentState, carried_facts, without_removed
from shared.errors import NotFound, Unavailable, reason_of
from shared.log import get_logger
from shared.saved_searches import ALBUMS
from shared.saved_searches.matcher import SavedSearchMatcher
from shared.schemas import ImageState
from shared.state import EnrichBacklog
from shared.storage import ObjectStore
from shared.webhooks import events as webhook_events
from shared.webhooks.events import EventPublisher

log = get_logger(__name__)


class EnrichableIndex(Protocol):
    def row(self, image_id: str) -> dict[str, object] | None: ...

    def update(self, image_id: str, changes: dict[str, object]) -> dict[str, object] | None: ...


class Matchers(Protocol):
    def matcher(self) -> SavedSearchMatcher: ...


class EnrichStates(EnrichBacklog, Protocol):
    def state_of(self, image_id: str) -> ImageState | None: ...

    def claim(self, image_id: str) -> AbstractContextManager[None]: ...


@dataclass
class EnrichReport:
    enriched: list[str] = field(default_factory=list)
    # not (yet) in the live collection: another process's write shows within Milvus's time
    # tick, so the task looks again a few times before it lets them go
    missing: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # deleted since they were queued
    unchanged: list[str] = field(default_factory=list)  # enriched again, found the same
    took_s: dict[str, float] = field(default_factory=dict)  # per enrichment


class EnrichmentService:
    def __init__(
        self,
        index: EnrichableIndex,
        store: ObjectStore,
        states: EnrichStates,
        enrichers: Sequence[Enricher],
        searches: Matchers | None = None,
        events: EventPublisher | None = None,
    ) -> None:
        self._index = index
        self._store = store
        self._states = states
        self._enrichers = list(enrichers)
        self._searches = searches
        self._events = events

    def run(
        self, image_ids: Sequence[str], last_look: bool = False, only: Sequence[str] = ()
    ) -> EnrichReport:
        """Enrich these images; an outage of storage, Redis or Milvus raises Unavailable (the
        task retries). ``last_look``: images still missing are let go. ``only``: run just
        these enrichments (again); the others' facts and states stay as they are."""
        report = EnrichReport()
        enrichers = [e for e in self._enrichers if not only or e.name in only]
        for image_id in dict.fromkeys(image_ids):
            if self._states.state_of(image_id) == ImageState.deleted:
                report.gone.append(image_id)
                continue
            row = self._index.row(image_id)
            if row is None:
                report.missing.append(image_id)
                continue
            changes = self._enrich(enrichers, EnrichTarget(image_id, row), report)
            with self._states.claim(image_id):  # never over an edit or a delete in flight
                if self._states.state_of(image_id) == ImageState.deleted:
                    report.gone.append(image_id)
                    continue
                # as it is now: an edit may have taken auto-tags away while this one ran
                now = self._index.row(image_id) or row
                changes.update(without_removed({**now, **changes}))
                changes.update(self._albums(image_id, {**now, **changes}))
                if all(now.get(name) == value for name, value in changes.items()):
                    # found again as it was (an enrichment run again): no write, and no
                    # moment in which a rewritten row is missed (milvus-lite)
                    report.unchanged.append(image_id)
                    continue
                self._publish_joins(image_id, now, changes)
                if self._index.update(image_id, changes) is None:
                    report.missing.append(image_id)
                    continue
                try:
                    update_details(
                        self._store, image_id, {"facts": carried_facts({**now, **changes})}
                    )
                except NotFound:  # its original went with a delete: so does the image
                    report.gone.append(image_id)
                    continue
            report.enriched.append(image_id)
        finished = [
            *report.enriched, *report.unchanged, *report.gone,
            *(report.missing if last_look else []),
        ]  # fmt: skip
        self._states.enrich_finished(finished)
        log.info(
            "images_enriched",
            enriched=len(report.enriched),
            unchanged=len(report.unchanged),
            missing=len(report.missing),
            gone=len(report.gone),
            took_ms={name: round(s * 1000, 1) for name, s in report.took_s.items()},
        )
        return report

    def _albums(self, image_id: str, row: dict[str, object]) -> dict[str, object]:
        """The row's albums with those its new facts make it join ({} when none)."""
        if self._searches is None:
            return {}
        matcher = self._searches.matcher()
        vector = row.get("vector")
        if not len(matcher) or not isinstance(vector, list):
            return {}
        had = row.get(ALBUMS)
        before = [str(a) for a in had] if isinstance(had, list) else []
        joined = [a for a in matcher.match(image_id, vector, row) if a not in before]
        return {ALBUMS: [*before, *joined]} if joined else {}

    def _publish_joins(
        self, image_id: str, row: dict[str, object], changes: dict[str, object]
    ) -> None:
        if self._events is None or ALBUMS not in changes:
            return
        had = row.get(ALBUMS)
        before = {str(a) for a in had} if isinstance(had, list) else set()
        joined = [str(a) for a in changes[ALBUMS] if str(a) not in before]  # type: ignore[attr-defined]
        created_at = row.get("created_at")
        self._events.publish(
            [
                webhook_events.album_joined(
                    album,
                    image_id,
                    str(row.get("filename") or ""),
                    created_at if isinstance(created_at, int) else 0,
                )
                for album in joined
            ]
        )

    def _enrich(
        self, enrichers: Sequence[Enricher], target: EnrichTarget, report: EnrichReport
    ) -> dict[str, object]:
        """These enrichments' fields, and the row's enrichment record with their states."""
        recorded = target.fields.get(STATE_FIELD)
        states = dict(recorded) if isinstance(recorded, dict) else {}
        changes: dict[str, object] = {}
        for enricher in enrichers:
            began = time.perf_counter()
            outcome = self._run_one(enricher, target)
            report.took_s[enricher.name] = (
                report.took_s.get(enricher.name, 0.0) + time.perf_counter() - began
            )
            changes.update(outcome.fields)
            states[enricher.name] = {"state": outcome.state.value, "reason": outcome.reason}
        changes[STATE_FIELD] = states
        return changes

    def _run_one(self, enricher: Enricher, target: EnrichTarget) -> Enriched:
        try:
            return enricher(target)
        except Unavailable:
            raise
        except Exception as exc:  # this enrichment of this image: recorded, nothing else lost
            reason = reason_of(exc)
            log.warning(
                "enrichment_failed", enrichment=enricher.name, image_id=target.image_id,
                reason=reason,
            )  # fmt: skip
            return Enriched(EnrichmentState.failed, reason=reason)
