import asyncio

import pytest

from ingestapi.service.job_events import JobWatchers
from ingestapi.settings import JobEventSettings
from shared.errors import TooManyRequests
from shared.schemas import ImageState, JobItem, JobStatus


def status(state: ImageState) -> JobStatus:
    return JobStatus.of("j-1", [JobItem(id="a" * 64, filename="a.png", state=state)])


class CountingJobs:
    """The job's statuses in turn, counting the reads."""

    def __init__(self, *states: ImageState) -> None:
        self.reads = 0
        self._states = list(states)

    def read(self, job_id: str) -> JobStatus:
        self.reads += 1
        return status(self._states[min(self.reads, len(self._states)) - 1])


def settings(**overrides: float) -> JobEventSettings:
    return JobEventSettings(**{"poll_s": 0.01, **overrides})  # type: ignore[arg-type]


async def follow_all(watchers: JobWatchers, client: str, first: JobStatus) -> list[str]:
    ticket = watchers.admit("j-1", client)
    async with watchers.follow(ticket, first) as statuses:
        return [s.state.value async for s in statuses]


def test_many_watchers_of_one_job_share_one_poll() -> None:
    queued, indexed = ImageState.queued, ImageState.indexed
    jobs = CountingJobs(queued, queued, queued, indexed)
    watchers = JobWatchers(settings(max_per_client=500, max_streams=500), jobs.read)

    async def main() -> list[list[str]]:
        first = status(queued)
        return await asyncio.gather(*(follow_all(watchers, "c", first) for _ in range(400)))

    seen = asyncio.run(main())
    assert all(states == ["queued", "indexed"] for states in seen)
    assert jobs.reads == 4  # one poll for the 400 of them, until the job was done
    assert watchers.open_streams == 0
    assert watchers.polled_jobs == 0


def test_streams_are_capped_per_client_and_per_process() -> None:
    watchers = JobWatchers(settings(max_per_client=2, max_streams=3), CountingJobs().read)
    watchers.admit("j-1", "a")
    watchers.admit("j-1", "a")
    with pytest.raises(TooManyRequests, match=r"events\.max_per_client"):
        watchers.admit("j-1", "a")
    watchers.admit("j-1", "b")
    with pytest.raises(TooManyRequests, match=r"events\.max_streams") as refused:
        watchers.admit("j-1", "c")
    assert refused.value.retry_after_s >= 1


def test_a_stream_ends_at_its_lifetime_and_its_place_is_freed() -> None:
    queued = ImageState.queued
    watchers = JobWatchers(
        settings(max_lifetime_s=0.05, max_per_client=1), CountingJobs(queued).read
    )

    async def main() -> list[str]:
        return await follow_all(watchers, "a", status(queued))

    assert asyncio.run(main()) == ["queued"]  # no 'done': the client reconnects
    assert watchers.open_streams == 0
    watchers.admit("j-1", "a")


def test_a_place_taken_by_a_stream_that_never_started_frees_itself() -> None:
    watchers = JobWatchers(settings(max_lifetime_s=0.01, max_per_client=1), CountingJobs().read)
    watchers.admit("j-1", "a")  # its response never began: no follow(), no release
    asyncio.run(asyncio.sleep(0.02))
    watchers.admit("j-1", "a")
