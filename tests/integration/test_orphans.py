"""No orphans: an original stored by a request that died before it queued the task (as an API
process killed at that moment leaves it) is nobody's once the grace time has passed: not a
duplicate, not known to /check, taken again by the next upload of the same bytes."""

import time
import uuid

import httpx
import redis

from imagesearch_dev.localstack import Stack
from shared.config import Limit
from shared.intake import Intake
from shared.schemas import ImageState, UploadDetails
from shared.state import STORED_GRACE_S, RedisJobStore
from shared.storage import MinioObjectStore
from shared.vectors import LiveIndex
from tests.support.images import image_bytes
from tests.support.polling import finished_job
from tests.support.stack import milvus_settings, redis_settings, storage_settings


def test_an_image_stored_but_never_queued_is_taken_again(full_stack: Stack) -> None:
    jobs = RedisJobStore.from_url(redis_settings(full_stack).url)
    intake = Intake(
        MinioObjectStore.from_settings(storage_settings(full_stack, bucket="images")),
        jobs,
        LiveIndex.connect(milvus_settings(full_stack, prefix="images")),
        Limit(10**7, "ingest.max_bytes"),
        Limit(10**8, "ingest.max_pixels"),
    )
    data = image_bytes(tuple(uuid.uuid4().bytes[:3]), size=(80, 60))
    orphan = intake.accept("orphan.png", data, UploadDetails())  # stored; its request dies
    assert orphan.id is not None and jobs.state_of(orphan.id) == ImageState.stored
    with httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60) as api:
        files = [("files", ("again.png", data, "image/png"))]
        # within the grace time its request may still be queueing it: a duplicate
        assert api.post("/api/v1/images", files=files).json()["items"][0]["status"] == "duplicate"
        _age(redis_settings(full_stack).url, orphan.id)
        assert api.post("/api/v1/images/check", json={"ids": [orphan.id]}).json()["known"] == []
        assert api.get(f"/api/v1/images/{orphan.id}").json()["state"] == "stored"
        upload = api.post("/api/v1/images", files=files).json()
        assert upload["items"][0]["status"] == "accepted"
        assert finished_job(api, upload["job_id"])["state"] == "indexed"
        assert api.get(f"/api/v1/images/{orphan.id}").json()["state"] == "indexed"


def _age(redis_url: str, image_id: str) -> None:
    """As if the grace time had passed since it was stored."""
    with redis.Redis.from_url(redis_url) as client:
        client.hset(f"image:{image_id}", "at", time.time() - STORED_GRACE_S - 1)
