"""`embedding.dtype: auto` on a CPU: bf16 (autocast over the fp32 weights) where the CPU computes
bf16 natively (AVX512-BF16, AMX) and it is measured faster on this model, with vectors that
keep cosine >= MIN_COSINE to fp32; else fp32. CUDA: fp16. On a 2-core AVX512-BF16 box the
ViT-B/32 image tower ran 23 img/s in bf16 against 15 in fp32 (make bench-embed), while the
project's small offline model gains nothing: hence a measurement, not a rule."""

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared.embedding.machine import CPUINFO, cache_dir, cpu, locked

if TYPE_CHECKING:
    from PIL import Image

    from shared.embedding.protocol import Vectors

MIN_COSINE = 0.999
MIN_GAIN = 1.3  # bf16 must be this much faster: a tie, or a noisy measurement, stays fp32
NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


@dataclass(frozen=True)
class Trial:
    seconds: float  # the best of the repeats: one image batch and one text batch
    min_cosine: float  # against fp32's vectors (1.0 for fp32 itself)


def cpu_has_native_bf16(cpuinfo: Path = CPUINFO) -> bool:
    return bool(cpu(cpuinfo).flags & NATIVE_BF16_FLAGS)


def choose(fp32: Trial, bf16: Trial) -> str:
    if bf16.min_cosine >= MIN_COSINE and bf16.seconds * MIN_GAIN <= fp32.seconds:
        return "bf16"
    return "fp32"


def decisions_dir() -> Path:
    return cache_dir("precision")


@contextmanager
def shared_decision(key: str, folder: Path | None = None) -> Iterator["Decision"]:
    """One measurement per model and machine: the first process measures under a file lock
    and writes it down, the others (every worker child, searchapi) read it. Vectors of the
    same image must not depend on which process embedded it."""
    folder = folder or decisions_dir()
    path = folder / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"
    with ExitStack() as held:
        try:
            held.enter_context(locked(folder))
        except OSError:
            # nowhere to share it: fp32 everywhere beats a choice that differs between processes
            unshared = Decision(path)
            unshared.dtype = unshared.dtype or "fp32"
            yield unshared
            return
        decision = Decision(path)
        yield decision
        decision.save()


class Decision:
    def __init__(self, path: Path) -> None:
        self._path = path
        self.dtype: str | None = None
        self.trials: dict[str, Trial] = {}
        try:
            saved = json.loads(path.read_text())
            self.dtype = str(saved["dtype"])
            self.trials = {name: Trial(**t) for name, t in saved["trials"].items()}
            self._saved = True
        except (OSError, ValueError, KeyError, TypeError):
            self._saved = False

    def save(self) -> None:
        if self._saved or self.dtype is None:
            return
        trials = {name: asdict(t) for name, t in self.trials.items()}
        self._path.write_text(json.dumps({"dtype": self.dtype, "trials": trials}))


def machine_key(model_id: str, threads: int) -> str:
    """What a measurement holds for: the model, this CPU, torch and the threads."""
    import torch

    model = cpu().model
    return f"{model_id}|{model}|{os.cpu_count()}|torch {torch.__version__}|threads {threads}"


def min_cosine(reference: Sequence["Vectors"], trial: Sequence["Vectors"]) -> float:
    """The lowest cosine between matching rows of normalised vector sets."""
    import numpy as np

    return min(float(np.min(np.sum(a * b, axis=1))) for a, b in zip(reference, trial, strict=True))


def calibration_images(count: int) -> list["Image.Image"]:
    """Photo-like noise: smooth colour fields with detail, the same every start."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    out = []
    for _ in range(count):
        base = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        image = Image.fromarray(base).resize((224, 224), Image.Resampling.BICUBIC)
        noise = rng.integers(-20, 21, (224, 224, 3))
        out.append(Image.fromarray(np.clip(np.asarray(image) + noise, 0, 255).astype(np.uint8)))
    return out


class Measurable(Protocol):
    """An embedder whose dtype can be switched between calls (torch autocast, OpenVINO's
    precision hint)."""

    dtype: str
    dtype_trials: dict[str, Trial]

    def embed_images(self, images: Sequence["Image.Image"]) -> "Vectors": ...

    def embed_texts(self, texts: Sequence[str]) -> "Vectors": ...


def settle_dtype(embedder: Measurable, key: str, batch_size: int) -> None:
    """Set the embedder's dtype to the machine's shared decision for ``key``, measuring it
    first if no process has yet."""
    with shared_decision(key) as decision:
        if decision.dtype is None:
            measure_dtype(embedder, batch_size)
            decision.dtype, decision.trials = embedder.dtype, embedder.dtype_trials
        else:
            embedder.dtype, embedder.dtype_trials = decision.dtype, decision.trials


def measure_dtype(embedder: Measurable, batch_size: int) -> None:
    """Time a batch of images and one of texts in fp32 and in bf16 and keep the faster one
    whose vectors stay within MIN_COSINE of fp32's (a few seconds, once, at start)."""
    images = calibration_images(min(batch_size, 8))
    texts = ["a photo of a red car at night"] * min(batch_size, 8)

    def run() -> tuple["Vectors", "Vectors"]:
        return embedder.embed_images(images), embedder.embed_texts(texts)

    embedder.dtype = "fp32"
    reference = run()
    fp32 = Trial(best_of(run), 1.0)
    embedder.dtype = "bf16"
    bf16 = Trial(best_of(run), min_cosine(reference, run()))
    embedder.dtype = choose(fp32, bf16)
    embedder.dtype_trials = {"fp32": fp32, "bf16": bf16}


def trial_info(trials: dict[str, Trial]) -> dict[str, object]:
    """The measurement, for info() (empty when the dtype was configured, not measured)."""
    if not trials:
        return {}
    timings = {f"{name}_s": round(trial.seconds, 3) for name, trial in trials.items()}
    return {**timings, "bf16_min_cosine": round(trials["bf16"].min_cosine, 6)}


def best_of(run: Callable[[], object], repeats: int = 2) -> float:
    run()  # the first call pays lazy initialisation
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)
