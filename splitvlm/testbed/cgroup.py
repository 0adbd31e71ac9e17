"""A cgroup v1 `cpu` group that caps the edge at a fraction of a core.

    /sys/fs/cgroup/cpu/<prefix>-edge/cpu.cfs_period_us = 100000
                                      cpu.cfs_quota_us  = quota x period

`wrap_argv` makes a command join the group before it execs, so everything it starts stays in.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from pathlib import Path

from splitvlm.testbed.errors import TestbedError

CPU_ROOT = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000


def group_path(name: str, root: Path = CPU_ROOT) -> Path:
    return root / name


def create(path: Path, quota: float) -> None:
    """Create the group (or reuse it) with `quota` CPUs per period. Raises TestbedError."""
    try:
        path.mkdir(exist_ok=True)
        (path / "cpu.cfs_period_us").write_text(f"{PERIOD_US}\n")
        (path / "cpu.cfs_quota_us").write_text(f"{round(quota * PERIOD_US)}\n")
    except OSError as exc:
        raise TestbedError(f"cannot set up cgroup {path}: {exc}") from exc


def quota_us(path: Path) -> int | None:
    """The group's cfs quota in microseconds, or None when the group does not exist."""
    try:
        return int((path / "cpu.cfs_quota_us").read_text())
    except OSError:
        return None


def pids(path: Path) -> list[int]:
    """Processes in the group (none when it does not exist)."""
    try:
        return [int(line) for line in (path / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def wrap_argv(path: Path, argv: Sequence[str]) -> list[str]:
    """`argv` run through a shell that first moves itself into the group, then execs."""
    procs = shlex.quote(str(path / "cgroup.procs"))
    return ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh", *argv]


def remove(path: Path, timeout_s: float = 3.0) -> None:
    """Remove the group once its processes are gone. Raises TestbedError if it stays busy."""
    deadline = time.monotonic() + timeout_s
    while path.exists():
        try:
            path.rmdir()
        except FileNotFoundError:
            return
        except OSError as exc:  # EBUSY while exiting tasks are still attached
            if time.monotonic() > deadline:
                raise TestbedError(f"cannot remove cgroup {path}: {exc}") from exc
            time.sleep(0.05)
