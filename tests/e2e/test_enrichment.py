"""Enrichment on the whole local stack: an indexed image is searchable at once, and its place
(from EXIF GPS) follows on the enrichment queue, taken by a worker of its own. Bad GPS gives
no place and no error; the place is found by the box (place:) and by the place filter."""

import uuid
from typing import Any

import httpx
import pytest
from PIL.TiffImagePlugin import IFDRational

from imagesearch_dev.localstack import Stack
from tests.support.images import dms, image_bytes, jpeg_with_gps
from tests.support.polling import eventually, finished_job

ENRICH_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def client(full_stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60)


@pytest.fixture(scope="module")
def uploaded(client: httpx.Client) -> tuple[str, dict[str, str]]:
    """Three pictures under a tag of their own: taken in Lisbon, with a broken GPS record (a
    zero denominator), and without GPS."""
    tag = f"enrich-{uuid.uuid4().hex[:8]}"
    shade = tuple(int(uuid.uuid4().hex[i : i + 2], 16) for i in (0, 2, 4))
    files = {
        "lisbon.jpg": jpeg_with_gps(dms(38.7223), "N", dms(9.1393), "W", colour=shade),
        "broken-gps.jpg": jpeg_with_gps(
            (IFDRational(38, 0), IFDRational(0), IFDRational(0)), "N", dms(9.0), "W", colour=shade,
            size=(60, 40),
        ),
        "no-gps.jpg": image_bytes(shade, fmt="JPEG", size=(50, 40)),
    }  # fmt: skip
    upload = client.post(
        "/api/v1/images",
        files=[("files", (name, data, "image/jpeg")) for name, data in files.items()],
        data={"tags": tag},
    )
    assert upload.status_code in (200, 202), upload.text
    body = upload.json()
    assert finished_job(client, body["job_id"])["state"] == "indexed"
    return tag, {item["filename"]: item["id"] for item in body["items"]}


def enriched(client: httpx.Client, image_id: str) -> dict[str, Any]:
    def place_done() -> dict[str, Any] | None:
        status = client.get(f"/api/v1/images/{image_id}").json()
        return status if status["enrichment"]["place"]["state"] != "pending" else None

    return eventually(place_done, ENRICH_TIMEOUT_S, f"the place of {image_id}")


def test_the_place_is_read_from_gps_and_bad_gps_is_no_place(
    client: httpx.Client, uploaded: tuple[str, dict[str, str]]
) -> None:
    _, ids = uploaded
    lisbon = enriched(client, ids["lisbon.jpg"])
    assert lisbon["state"] == "indexed"
    assert lisbon["enrichment"]["place"] == {"state": "done", "reason": None}
    assert lisbon["metadata"]["country_code"] == "PT"
    assert lisbon["metadata"]["place"].endswith("Lisbon, Portugal")
    for name in ("broken-gps.jpg", "no-gps.jpg"):
        status = enriched(client, ids[name])
        assert status["state"] == "indexed"
        assert status["enrichment"]["place"] == {"state": "skipped", "reason": "no GPS position"}
        assert not status["metadata"].get("place")


def test_the_box_and_the_filter_find_a_place(
    client: httpx.Client, uploaded: tuple[str, dict[str, str]]
) -> None:
    tag, ids = uploaded
    enriched(client, ids["lisbon.jpg"])

    def search(**params: str) -> list[str]:
        response = client.get("/api/v1/image/search", params={"tags": tag, **params})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    def found_by_words() -> list[str] | None:
        hits = search(text="place:lisbon", cutoff="none")
        return hits if hits[:1] == [ids["lisbon.jpg"]] else None

    eventually(found_by_words, ENRICH_TIMEOUT_S, "place:lisbon finding the picture")
    assert search(text="portugal", place="Portugal") == [ids["lisbon.jpg"]]
    assert search(text="a picture", place="PT") == [ids["lisbon.jpg"]]
    assert search(text="a picture", place="Spain") == []
    browse = client.get("/api/v1/images", params={"tags": tag, "place": "Lisbon"})
    assert [item["id"] for item in browse.json()["items"]] == [ids["lisbon.jpg"]]
    assert browse.json()["items"][0]["place"].endswith("Portugal")


def test_enrichment_runs_on_its_own_workers_and_its_backlog_empties(
    full_stack: Stack, client: httpx.Client, uploaded: tuple[str, dict[str, str]]
) -> None:
    _, ids = uploaded
    for image_id in ids.values():
        enriched(client, image_id)
    eventually(
        lambda: client.get("/api/v1/stats").json()["enrichment_backlog"] == 0,
        ENRICH_TIMEOUT_S,
        "the enrichment backlog emptying",
    )
    enricher_log = full_stack.table.log_path("enricher").read_text(errors="replace")
    worker_log = full_stack.table.log_path("worker").read_text(errors="replace")
    assert "images_enriched" in enricher_log
    assert "images_enriched" not in worker_log  # the index worker never takes its queue
