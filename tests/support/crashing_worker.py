"""The real worker, with a decoder that kills its process on a marker image (as a decoder
that crashes, or exhausts the memory, does): `celery -A tests.support.crashing_worker worker`.
"""

import os
import signal
from typing import Any

from celery import Celery
from dependency_injector import providers

from ingestworker import celery_app
from shared.images import DecodedImage, decode_image

MARKER = b"poison-pill-for-the-decoder"


def crashing_decode(data: bytes, *args: Any, **kwargs: Any) -> DecodedImage:
    if MARKER in data:
        os.kill(os.getpid(), signal.SIGKILL)
    return decode_image(data, *args, **kwargs)


def __getattr__(name: str) -> Celery:
    """`celery -A tests.support.crashing_worker` asks for `app` in the parent, before the
    children fork: every child decodes with the crashing decoder."""
    if name != "app":
        raise AttributeError(name)
    celery_app.container().decoder.override(providers.Object(crashing_decode))
    app: Celery = celery_app.app
    # a queue of its own, also for the halves it queues when it splits a batch
    app.conf.task_default_queue = os.environ.get("IMAGESEARCH_TEST_QUEUE", "crashing")
    return app
