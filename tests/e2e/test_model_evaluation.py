"""Evaluating a candidate model from the page and the API on the whole stack: the request is
queued for the worker (beside enrichment), which writes the report, or why it could not,
into the record the page polls. The live model evaluated against itself must score the same."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from imagesearch_dev.localstack import Stack
from tests.support.paths import MODEL_DIR
from tests.support.polling import eventually
from tests.support.scenes import upload_described_scenes


@pytest.fixture(scope="module")
def api(enriched: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=enriched.settings.url("nginx"), timeout=60) as client:
        upload_described_scenes(client, 10, seed=23)  # pictures that say things
        yield client


def settled(api: httpx.Client, location: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        response = api.get(location)
        assert response.status_code == 200, response.text
        record: dict[str, Any] = response.json()
        return record if record["state"] in ("done", "failed") else None

    return eventually(finished, 180, "the evaluation")


def test_a_candidate_that_cannot_be_loaded_fails_with_why(api: httpx.Client) -> None:
    response = api.post("/api/v1/model-evaluations", json={"model": "/no/such/model", "sample": 10})
    assert response.status_code == 202 and response.json()["state"] == "queued"
    record = settled(api, response.headers["location"])
    assert record["state"] == "failed" and "cannot be loaded" in record["reason"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"model": "m", "sample": 5}, "sample"),
        ({"model": "m", "sample": 5000}, "sample"),
        ({"model": ""}, "model"),
        ({"model": "a\nb"}, "model"),
        ({"model": "m", "index": True}, "index"),
    ],
)
def test_a_bad_evaluation_request_is_refused(
    api: httpx.Client, body: dict[str, object], says: str
) -> None:
    response = api.post("/api/v1/model-evaluations", json=body)
    assert response.status_code == 422 and says in response.text
    assert "Traceback" not in response.text


def test_an_unknown_evaluation_is_404(api: httpx.Client) -> None:
    for evaluation_id in ("0" * 32, "not-an-id"):
        assert api.get(f"/api/v1/model-evaluations/{evaluation_id}").status_code == 404


def test_the_page_evaluates_a_candidate_beside_the_live_model(
    page: Page, api: httpx.Client
) -> None:
    page.goto("/")
    expect(page.locator("#model-line")).to_contain_text("tiny-clip")
    page.click("#open-models")
    expect(page.locator("#models-live")).to_contain_text("tiny-clip")
    page.fill("#candidate-model", str(MODEL_DIR))
    page.fill("#candidate-sample", "30")
    page.click("#evaluate-model")
    report = page.locator("#evaluation-report")
    expect(report).to_be_visible(timeout=180_000)
    recall = report.locator("tr[data-metric='recall@10'] td")
    expect(recall).to_have_count(2)
    live, candidate = recall.all_text_contents()
    assert live == candidate and 0 <= float(live) <= 1  # the same model: the same answers
    expect(page.locator("#evaluation-switch")).to_contain_text("Switching would embed")
    expect(page.locator("#evaluation-status")).to_contain_text("queries on")
