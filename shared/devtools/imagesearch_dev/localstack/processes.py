"""Background processes tracked by pid files: start, wait until ready, stop exactly those pids."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class StackError(RuntimeError):
    pass


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    start_timeout_s: float = 90.0
    stop_timeout_s: float = 30.0


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a pid: tells a live process from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # exited, not yet reaped
        return None
    return fields[19]


class ProcessTable:
    def __init__(self, run_dir: Path) -> None:
        self.pids = run_dir / "pids"
        self.logs = run_dir / "logs"

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def running_pid(self, name: str) -> int | None:
        try:
            pid_text, started = (self.pids / f"{name}.pid").read_text().split()
        except (OSError, ValueError):
            return None
        pid = int(pid_text)
        return pid if _start_time(pid) == started else None

    def start(self, spec: ProcessSpec, cwd: Path) -> int:
        self.pids.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        with self.log_path(spec.name).open("ab") as log:
            proc = subprocess.Popen(  # noqa: S603 - argv built by this module, no shell
                spec.argv,
                cwd=cwd,
                env={**os.environ, **spec.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped together
            )
        (self.pids / f"{spec.name}.pid").write_text(f"{proc.pid} {_start_time(proc.pid)}\n")
        return proc.pid

    def wait_ready(self, spec: ProcessSpec, pid: int) -> None:
        deadline = time.monotonic() + spec.start_timeout_s
        while time.monotonic() < deadline:
            if _start_time(pid) is None:
                raise StackError(f"{spec.name} exited during start-up\n{self.tail(spec.name)}")
            try:
                if spec.ready():
                    return
            except Exception:  # noqa: S110 - any failure of a probe means "not yet"
                pass
            time.sleep(0.2)
        raise StackError(
            f"{spec.name} not ready after {spec.start_timeout_s:.0f}s\n{self.tail(spec.name)}"
        )

    def stop(self, name: str, timeout_s: float = 30.0) -> bool:
        pid = self.running_pid(name)
        (self.pids / f"{name}.pid").unlink(missing_ok=True)
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        if not _wait_group_gone(pid, timeout_s):
            _signal_group(pid, signal.SIGKILL)
            _wait_group_gone(pid, 5.0)
        return True

    def tail(self, name: str, lines: int = 30) -> str:
        try:
            text = self.log_path(name).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(f"  {name}| {line}" for line in text.splitlines()[-lines:])


def _wait_group_gone(pgid: int, timeout_s: float) -> bool:
    """Wait until no process of the group is left (workers' children included)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pgid, os.WNOHANG)  # reap the leader when this process started it
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
