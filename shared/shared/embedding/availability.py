"""Fail fast, before torch loads, when a configured model cannot be had."""

from pathlib import Path

HUB_TIMEOUT_S = 5.0


class ModelUnavailable(Exception):
    pass


def check_model(model: str) -> None:
    """A local directory, a model in the Hugging Face cache, or one the hub says exists."""
    path = Path(model).expanduser()
    if path.is_dir():
        return
    if path.is_absolute() or model.startswith((".", "~")) or model.count("/") > 1:
        raise ModelUnavailable("no such local directory")
    from huggingface_hub import model_info, try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        if any(
            isinstance(try_to_load_from_cache(model, f), str)
            for f in ("modules.json", "config.json")
        ):
            return
        model_info(model, timeout=HUB_TIMEOUT_S)
    except HFValidationError as exc:
        raise ModelUnavailable("not a local directory nor a valid hub id") from exc
    except Exception as exc:  # offline, DNS, timeout, 401/404: all mean "cannot be had"
        raise ModelUnavailable(
            f"not a local directory, not in the Hugging Face cache, and the hub did not "
            f"provide it ({type(exc).__name__})"
        ) from exc
