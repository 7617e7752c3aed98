"""What the embedding runtimes know of this machine and keep on it between runs: the CPU
(from /proc/cpuinfo, read in one place), and the cache folder of exports and dtype decisions,
written under a file lock so that processes starting together (worker children, searchapi) do
the work once."""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class Cpu:
    model: str  # "unknown cpu" where it cannot be read
    flags: frozenset[str]


def cpu(cpuinfo: Path = CPUINFO) -> Cpu:
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return Cpu("unknown cpu", frozenset())
    model = next((line for line in lines if line.startswith("model name")), "unknown cpu")
    flags = {word for line in lines if line.startswith("flags") for word in line.split()}
    return Cpu(model, frozenset(flags))


def cache_dir(kind: str) -> Path:
    """The machine's cache of one kind ("exports", "precision"), under the user's cache."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "imagesearch" / kind


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Held by one process of the machine at a time; OSError where the folder cannot be made
    or written."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
