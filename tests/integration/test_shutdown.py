"""An API stopped with SIGTERM finishes the responses it is sending (uvicorn's graceful
shutdown), then exits."""

import os
import signal

import httpx

from imagesearch_dev.localstack import Stack
from shared.ids import content_id, original_key
from shared.storage import MinioObjectStore
from tests.support.polling import process_gone
from tests.support.stack import storage_settings


def test_cdnapi_drains_a_download_in_flight_on_sigterm(full_stack: Stack) -> None:
    data = os.urandom(24 * 1024 * 1024)  # far more than socket buffers hold
    store = MinioObjectStore.from_settings(storage_settings(full_stack, "images"))
    store.put(original_key(content_id(data)), data, "image/jpeg")
    pid = full_stack.table.running_pid("cdnapi")
    assert pid is not None
    url = f"{full_stack.settings.url('cdnapi')}/images/{content_id(data)}"
    try:
        with httpx.stream("GET", url, timeout=60) as response:
            chunks = response.iter_bytes(64 * 1024)
            received = [next(chunks)]
            os.kill(pid, signal.SIGTERM)  # mid-download
            received += list(chunks)
        assert response.status_code == 200
        assert b"".join(received) == data
        process_gone(full_stack, "cdnapi", timeout_s=30)  # exits once drained
    finally:
        full_stack.up(["cdnapi"])
