"""Can the testbed run on this machine? `root_reason()` says why not, or None."""

from __future__ import annotations

import os
import shutil

from splitvlm.testbed import cgroup
from splitvlm.testbed.commands import in_netns, run
from splitvlm.testbed.errors import TestbedError


def root_reason(probe: bool = True) -> str | None:
    """Why the testbed cannot run here, or None. With `probe`, also create (and delete) a
    throwaway namespace holding a veth with a tbf qdisc, to prove the kernel allows it."""
    if os.geteuid() != 0:
        return f"the testbed needs root (running as uid {os.geteuid()})"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"`{tool}` not found; install iproute2 (apt-get install -y iproute2)"
    if not (cgroup.CPU_ROOT / "cpu.cfs_quota_us").exists():
        return f"cgroup v1 cpu controller not mounted at {cgroup.CPU_ROOT}"
    if not os.access(cgroup.CPU_ROOT, os.W_OK):
        return f"{cgroup.CPU_ROOT} is not writable"
    return _probe_kernel() if probe else None


def _probe_kernel() -> str | None:
    ns = f"svtbprobe{os.getpid()}"
    try:
        run(["ip", "netns", "add", ns])
    except TestbedError as exc:
        return f"cannot create network namespaces: {exc}"
    try:
        run(["ip", "-n", ns, "link", "add", "p0", "type", "veth", "peer", "name", "p1"])
        run(in_netns(ns, ["tc", "qdisc", "add", "dev", "p0", "root", "tbf", "rate", "1mbit",
                          "burst", "3028", "latency", "50ms"]))  # fmt: skip
    except TestbedError as exc:
        return f"cannot create a veth with a tbf qdisc in a namespace: {exc}"
    finally:
        run(["ip", "netns", "del", ns], check=False)
    return None
