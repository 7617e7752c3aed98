"""The API says which model answers, and what the model's own card says it knows: the
offline model's card ships in its folder; a model in the Hugging Face cache is read from the
cache without the network; a model without a card (CLIP) says nothing it does not know."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from searchapi.container import Container
from searchapi.main import create_app
from searchapi.settings import SearchApiSettings
from shared.embedding.model_card import CARD_FILE, model_card
from tests.support.paths import MODEL_DIR
from tests.unit.fakes import ColourEmbedder, InMemoryObjectStore, InMemoryVectorIndex


def client_for(model: str) -> Iterator[TestClient]:
    settings = SearchApiSettings(embedding={"model": model})  # type: ignore[arg-type]
    container = Container(settings=settings)
    container.embedder.override(providers.Object(ColourEmbedder()))
    container.vector_index.override(providers.Object(InMemoryVectorIndex()))
    container.object_store.override(providers.Object(InMemoryObjectStore()))
    with TestClient(create_app(container)) as client:
        yield client


def test_the_offline_models_card_says_what_it_knows_and_what_to_ask() -> None:
    for client in client_for(str(MODEL_DIR)):
        body = client.get("/api/v1/model").json()
    assert body["model"] == "fake-colour" and body["dim"] == 3  # as the embedder says
    assert body["runtime"] and body["dtype"] and body["device"] == "cpu"
    assert "coloured shapes" in body["knows"] and "a purple star" in body["examples"]


def test_a_model_without_a_card_says_nothing_more(tmp_path: Path) -> None:
    for client in client_for(str(tmp_path)):
        body = client.get("/api/v1/model").json()
    assert body["knows"] is None and body["examples"] == []


def test_a_card_in_the_hugging_face_cache_is_read_without_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "hub" / "models--someone--tiny-clip" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    shutil.copy(MODEL_DIR / CARD_FILE, snapshot / CARD_FILE)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    card = model_card("someone/tiny-clip")
    assert card is not None and card.examples[0] == "a purple star"
    assert model_card("someone/not-cached") is None


@pytest.mark.parametrize("content", ["not json", '{"examples": 3}', '{"knows": 5}', "[]"])
def test_an_unreadable_card_is_no_card(tmp_path: Path, content: str) -> None:
    (tmp_path / CARD_FILE).write_text(content)
    assert model_card(str(tmp_path)) is None
    assert json.loads((MODEL_DIR / CARD_FILE).read_text())["knows"]
