import pytest


@pytest.fixture(autouse=True)
def storage_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """searchapi keeps saved searches in object storage: its keys come from the environment."""
    monkeypatch.setenv("SEARCHAPI__STORAGE__ACCESS_KEY", "unit-tests")
    monkeypatch.setenv("SEARCHAPI__STORAGE__SECRET_KEY", "unit-tests")
