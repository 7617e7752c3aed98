"""What the stack's processes use, read from /proc: memory and CPU time of a process tree (a
prefork worker and its children)."""

import os
from pathlib import Path


def rss_of_tree(pid: int) -> int:
    """Resident bytes of a process and all its descendants (a prefork worker's children)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, IndexError, ProcessLookupError):
            continue
    return total


def peak_rss_bytes(pid: int) -> int:
    """The most a process has held resident so far (the kernel's high-water mark, VmHWM): no
    spike between two looks is missed. 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) * 1024
    except (FileNotFoundError, IndexError):
        return 0


def cpu_s_of_tree(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for current in pids_of_tree(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def pids_of_tree(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found
