"""What every runtime's embedder says about itself (info(), for health, logs and the page),
and the check that its two towers share one space: written once for torch and the exported
runtimes."""

from shared.embedding.precision import Trial, trial_info
from shared.errors import ConfigMismatch


class EmbedderIdentity:
    model_id: str
    text_model_id: str
    dim: int
    device: str
    runtime: str
    dtype: str
    dtype_trials: dict[str, Trial]

    def info(self) -> dict[str, object]:
        return {
            "model": self.model_id,
            "text_model": self.text_model_id,
            "dim": self.dim,
            "device": self.device,
            "runtime": self.runtime,
            "dtype": self.dtype,
            **trial_info(self.dtype_trials),
        }

    def _check_one_space(self, text_dim: int) -> None:
        if text_dim != self.dim:
            raise ConfigMismatch(
                f"text model {self.text_model_id!r} gives {text_dim}-d vectors, "
                f"image model {self.model_id!r} {self.dim}-d: they must share one space"
            )
