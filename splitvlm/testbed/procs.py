"""Processes the testbed starts (relays, services): start, identify, wait for, stop.

A process is identified by (pid, start time in clock ticks), so that `down` run from another
process never signals an unrelated process that reused a recorded pid.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from splitvlm.testbed.errors import TestbedError

TCP_LISTEN = "0A"
LOG_TAIL_BYTES = 2000


@dataclass(frozen=True)
class ProcRecord:
    """A started process, as kept in the state file."""

    role: str
    """"relay" or "service"."""
    tier: str
    pid: int
    start_ticks: int
    """Field 22 of /proc/PID/stat: tells a reused pid apart."""
    argv: list[str]
    log: str
    """File that receives the process's stdout and stderr."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcRecord:
        return cls(**data)


def start(
    argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session (so its process group can be signalled) with output
    to `log_path`."""
    with open(log_path, "ab") as log:
        try:
            return subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env=None if env is None else dict(env),
            )  # fmt: skip
        except OSError as exc:
            raise TestbedError(f"cannot start {argv[0]!r}: {exc}") from exc


def start_ticks(pid: int) -> int | None:
    """The process's start time in ticks since boot, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # comm may contain spaces
    return int(fields[19])  # field 22 overall; fields[0] is field 3


def is_alive(pid: int, ticks: int | None = None) -> bool:
    """True if `pid` runs (not a zombie) and, when given, started at `ticks`."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0] != "Z" and (ticks is None or int(fields[19]) == ticks)


def stop(
    records: Iterable[ProcRecord],
    extra_pids: Iterable[int] = (),
    children: Iterable[subprocess.Popen[bytes]] = (),
    grace_s: float = 3.0,
) -> list[int]:
    """SIGTERM the recorded processes (their whole process groups) and `extra_pids`, wait up
    to `grace_s`, then SIGKILL what is left. Reaps `children`. Returns pids that survived."""
    targets = {r.pid: r.start_ticks for r in records if is_alive(r.pid, r.start_ticks)}
    for pid in extra_pids:
        targets.setdefault(pid, start_ticks(pid) or 0)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, ticks in targets.items():
            _signal(pid, ticks, sig)
        deadline = time.monotonic() + (grace_s if sig == signal.SIGTERM else 2.0)
        while time.monotonic() < deadline:
            _reap(children)
            if not any(is_alive(pid, t) for pid, t in targets.items()):
                break
            time.sleep(0.05)
    _reap(children, wait_s=2.0)
    return [pid for pid, t in targets.items() if is_alive(pid, t)]


def _signal(pid: int, ticks: int, sig: signal.Signals) -> None:
    if not is_alive(pid, ticks):
        return
    try:
        if os.getpgid(pid) == pid:  # leader of the group we started: signal all of it
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(children: Iterable[subprocess.Popen[bytes]], wait_s: float = 0.0) -> None:
    """Collect the exit status of children that ended. With `wait_s`, wait that long for each:
    a leader shows as a zombie (not alive) while its other threads are still exiting, and
    cannot be reaped until they have."""
    for child in children:
        if wait_s <= 0:
            child.poll()
            continue
        try:
            child.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            pass


def listening_addrs(pid: int, port: int) -> set[str]:
    """Addresses with a TCP socket listening on `port` in the network namespace of `pid`."""
    found: set[str] = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr_hex, port_hex = local.split(":")
            if state == TCP_LISTEN and int(port_hex, 16) == port:
                found.add(_decode_addr(addr_hex, family))
    return found


def _decode_addr(addr_hex: str, family: socket.AddressFamily) -> str:
    raw = bytes.fromhex(addr_hex)
    # /proc prints each 32-bit word in host (little-endian) order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, words)


def wait_listening(
    proc: subprocess.Popen[bytes],
    port: int,
    timeout_s: float,
    ignore: frozenset[str] = frozenset(),
) -> None:
    """Wait until the namespace of `proc` has a listener on `port` at an address not in
    `ignore`. Raises TestbedError if `proc` exits or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while not (listening_addrs(proc.pid, port) - ignore):
        if proc.poll() is not None:
            raise TestbedError(f"exited with status {proc.returncode} before listening")
        if time.monotonic() > deadline:
            raise TestbedError(f"not listening on port {port} after {timeout_s:g} s")
        time.sleep(0.05)


def log_tail(path: str | Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - LOG_TAIL_BYTES))
            return f.read().decode(errors="replace").strip()
    except OSError:
        return ""
