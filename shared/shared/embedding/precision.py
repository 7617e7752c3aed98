"""`embedding.dtype: auto` on a CPU: bf16 (autocast over the fp32 weights) where the CPU computes
bf16 natively (AVX512-BF16, AMX) and it is measured faster on this model, with vectors that
keep cosine >= MIN_COSINE to fp32; else fp32. CUDA: fp16. On a 2-core AVX512-BF16 box the
ViT-B/32 image tower ran 23 img/s in bf16 against 15 in fp32 (make bench-embed), while the
project's small offline model gains nothing: hence a measurement, not a rule."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MIN_COSINE = 0.999
MIN_GAIN = 1.1  # bf16 must be this much faster: a tie stays fp32
NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}


@dataclass(frozen=True)
class Trial:
    seconds: float  # the best of the repeats: one image batch and one text batch
    min_cosine: float  # against fp32's vectors (1.0 for fp32 itself)


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    flags = {
        word for line in text.splitlines() if line.startswith("flags") for word in line.split()
    }
    return bool(flags & NATIVE_BF16_FLAGS)


def choose(fp32: Trial, bf16: Trial) -> str:
    if bf16.min_cosine >= MIN_COSINE and bf16.seconds * MIN_GAIN <= fp32.seconds:
        return "bf16"
    return "fp32"


def best_of(run: Callable[[], object], repeats: int = 2) -> float:
    run()  # the first call pays lazy initialisation
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)
