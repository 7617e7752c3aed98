import pytest

from shared.config import EmbeddingSettings
from shared.embedding import ModelUnavailable, check_model
from shared.preflight import check_models, exit_on_failure
from tests.support.paths import ROOT


def test_a_local_directory_is_available_without_asking_the_hub(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import huggingface_hub

    asked: list[str] = []

    def model_info(model: str, **_: object) -> None:
        asked.append(model)
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "model_info", model_info)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    check_model(str(ROOT / "shared" / "models" / "tiny-clip"))  # raises when unavailable
    assert asked == []


@pytest.mark.parametrize("model", ["./missing-model", "/nowhere/model", "a/b/c"])
def test_a_missing_directory_is_unavailable(model: str) -> None:
    with pytest.raises(ModelUnavailable):
        check_model(model)


def test_offline_hub_id_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailable, match="hub"):
        check_model("example-org/never-published-clip")


def test_a_missing_model_stops_the_entry_point_with_one_line_naming_the_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = EmbeddingSettings(model="./missing-model")
    with pytest.raises(SystemExit) as exc, exit_on_failure():
        check_models(settings, "searchapi")
    assert exc.value.code == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "SEARCHAPI__EMBEDDING__MODEL" in err
    assert "./missing-model" in err
