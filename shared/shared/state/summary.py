"""A job's overall state from its items' states."""

from shared.schemas import ImageState, JobItem, JobStatus


def summarize_job(job_id: str, items: list[JobItem]) -> JobStatus:
    counts = {state: 0 for state in ImageState}
    for item in items:
        counts[item.state] += 1
    pending = sum(n for state, n in counts.items() if state.pending)
    if pending and counts[ImageState.queued] == len(items):
        overall = ImageState.queued
    elif pending:
        overall = ImageState.processing
    elif counts[ImageState.failed]:
        overall = ImageState.failed
    else:
        overall = ImageState.indexed
    return JobStatus(job_id=job_id, state=overall, counts=counts, items=items)
