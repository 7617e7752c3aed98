"""Jobs' event streams, bounded: one shared poll per job however many watch it, a cap on streams
per client and per process (429 beyond), and a lifetime after which a stream ends with a
reconnect hint (a client that still cares opens a new one)."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

from fastapi.concurrency import run_in_threadpool

from ingestapi.settings import JobEventSettings
from shared.errors import NotFound, TooManyRequests
from shared.log import get_logger
from shared.schemas import JobStatus

log = get_logger(__name__)


@dataclass
class _Feed:
    """One job's latest status, read by one poller and handed to every watcher."""

    status: JobStatus
    version: int = 0
    watchers: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    poller: "asyncio.Task[None] | None" = None


@dataclass(eq=False)
class Ticket:
    """One admitted stream. It counts against the caps until released, or at the latest until
    its lifetime is over (a stream whose body never started cannot hold a place for ever)."""

    job_id: str
    client: str
    ends_at: float


def _newer(feed: _Feed, seen: int) -> bool:
    return feed.version > seen


class JobWatchers:
    def __init__(self, settings: JobEventSettings, read: Callable[[str], JobStatus]) -> None:
        self._settings = settings
        self._read = read
        self._feeds: dict[str, _Feed] = {}
        self._tickets: set[Ticket] = set()

    @property
    def open_streams(self) -> int:
        return len(self._tickets)

    @property
    def polled_jobs(self) -> int:
        return sum(1 for feed in self._feeds.values() if feed.poller is not None)

    def admit(self, job_id: str, client: str) -> Ticket:
        """A place for one stream of ``client``, or TooManyRequests past a cap: called before
        the stream's response starts."""
        s = self._settings
        now = time.monotonic()
        self._tickets = {t for t in self._tickets if t.ends_at > now}
        retry_after_s = max(1, round(s.poll_s * 4))
        if len(self._tickets) >= s.max_streams:
            raise TooManyRequests(
                f"too many job event streams open ({s.max_streams}, events.max_streams); "
                "poll GET /api/v1/jobs/{job_id} instead",
                retry_after_s=retry_after_s,
            )
        if sum(1 for t in self._tickets if t.client == client) >= s.max_per_client:
            raise TooManyRequests(
                f"at most {s.max_per_client} job event streams per client "
                "(events.max_per_client); close one first",
                retry_after_s=retry_after_s,
            )
        ticket = Ticket(job_id, client, now + s.max_lifetime_s)
        self._tickets.add(ticket)
        return ticket

    @asynccontextmanager
    async def follow(
        self, ticket: Ticket, first: JobStatus
    ) -> AsyncIterator[AsyncIterator[JobStatus]]:
        """The job's statuses as they change, starting with ``first``, until it is finished
        or the ticket's lifetime is over; the ticket is released at the end."""
        job_id = ticket.job_id
        feed = self._feeds.get(job_id)
        if feed is None:
            feed = self._feeds[job_id] = _Feed(first)
        feed.watchers += 1
        if feed.poller is None and first.state.pending:
            feed.poller = asyncio.create_task(self._poll(job_id, feed))
        try:
            yield self._statuses(feed, first, ticket.ends_at)
        finally:
            self._tickets.discard(ticket)
            feed.watchers -= 1
            if feed.watchers == 0 and feed.poller is None and self._feeds.get(job_id) is feed:
                del self._feeds[job_id]

    @staticmethod
    async def _statuses(feed: _Feed, first: JobStatus, ends_at: float) -> AsyncIterator[JobStatus]:
        yield first
        status, seen = first, feed.version
        while status.state.pending:
            left = ends_at - time.monotonic()
            if left <= 0:
                return
            async with feed.changed:
                try:
                    await asyncio.wait_for(
                        feed.changed.wait_for(partial(_newer, feed, seen)), timeout=left
                    )
                except TimeoutError:
                    return
                status, seen = feed.status, feed.version
            yield status

    async def _poll(self, job_id: str, feed: _Feed) -> None:
        """Reads the job while anyone watches it and it is not finished."""
        try:
            while feed.watchers > 0:
                await asyncio.sleep(self._settings.poll_s)
                try:
                    status = await run_in_threadpool(self._read, job_id)
                except NotFound:
                    return  # expired: its watchers end at their lifetime
                except Exception as exc:  # Redis away: the watchers keep the last status
                    log.warning("job_events_poll_failed", job_id=job_id, error=type(exc).__name__)
                    continue
                if status != feed.status:
                    async with feed.changed:
                        feed.status, feed.version = status, feed.version + 1
                        feed.changed.notify_all()
                if not status.state.pending:
                    return
        finally:
            feed.poller = None
            if feed.watchers == 0 and self._feeds.get(job_id) is feed:
                del self._feeds[job_id]
