"""What an entry point checks before it serves: its config, its model, the live index.

Each check raises PreflightFailed carrying one line that says what is wrong and which key or
command fixes it; an entry point turns that into the one-line exit (`exit_on_failure`).
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from pydantic import ValidationError

from shared.config import EmbeddingSettings, MilvusSettings, ServiceSettings, describe_error
from shared.errors import Unavailable

S = TypeVar("S", bound=ServiceSettings)
CONFIG_EXIT = 2
DEPENDENCY_EXIT = 3


class PreflightFailed(Exception):
    def __init__(self, line: str, exit_code: int) -> None:
        super().__init__(line)
        self.line = line
        self.exit_code = exit_code


def load_config(cls: type[S]) -> S:
    """conf/<service>.yaml with its environment overrides; a bad key is named in the error."""
    try:
        return cls()
    except ValidationError as exc:
        raise PreflightFailed(describe_error(cls, exc), CONFIG_EXIT) from None


def check_models(settings: EmbeddingSettings, service: str) -> None:
    """Every configured model can be had (before torch loads)."""
    from shared.embedding import ModelUnavailable, check_model

    for key, model in (("model", settings.model), ("text_model", settings.text_model)):
        if model is None:
            continue
        try:
            check_model(model)
        except ModelUnavailable as exc:
            env = f"{service.upper()}__EMBEDDING__{key.upper()}"
            raise PreflightFailed(
                f"embedding model {model!r} cannot be loaded: {exc}; set embedding.{key} "
                f"(env {env}) to a local model directory",
                DEPENDENCY_EXIT,
            ) from None


def check_live_model(settings: MilvusSettings, model: str, service: str) -> None:
    """Milvus answers and its live index was built by this model, in this layout."""
    from shared.vectors import live_model_problem

    try:
        problem = live_model_problem(settings, model)
    except Unavailable as exc:
        raise PreflightFailed(
            f"{service}: Milvus at {settings.uri} (milvus.uri) does not answer: {exc.detail}",
            DEPENDENCY_EXIT,
        ) from None
    if problem:
        raise PreflightFailed(f"{service}: {problem}", DEPENDENCY_EXIT)


@contextmanager
def exit_on_failure() -> Iterator[None]:
    """Around an entry point's checks: a failed one stops the process with its line."""
    try:
        yield
    except PreflightFailed as exc:
        print(exc.line, file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
