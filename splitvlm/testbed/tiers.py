"""The three splitvlm tiers as the testbed's services: `splitvlm serve` in each namespace.

    services = tier_services(ports, "svtb", state_dir)     # for Testbed(profile, services, ports)
    Client(edge_target(state_dir))                          # from the host: unix:/.../edge.sock

Fog and cloud bind 127.0.0.1 in their namespaces (behind their delaying relays); the edge's
next hop is the fog's relay, the fog's the cloud's. The edge also listens on a unix socket in
the testbed's state folder: unix sockets are reachable across network namespaces, so a process
on the host talks to the edge (inside its namespace and CPU quota) without crossing a link.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from splitvlm.testbed.bed import PACKAGE_ROOT, endpoints_for

EDGE_SOCKET = "edge.sock"
NEXT_HOP = {"edge": "fog", "fog": "cloud"}


def edge_socket(state_dir: Path) -> Path:
    return state_dir / EDGE_SOCKET


def edge_target(state_dir: Path) -> str:
    """gRPC target of the edge from the host (or any namespace)."""
    return f"unix:{edge_socket(state_dir)}"


def tier_services(
    ports: Mapping[str, int],
    prefix: str,
    state_dir: Path,
    *,
    checkpoint_dir: str = "",
    threads: int = 1,
) -> dict[str, list[str]]:
    """argv per tier: `env SPLITVLM_...=... python -m splitvlm.cli serve TIER ...`.

    `checkpoint_dir` empty: the services' own default (their SPLITVLM_CHECKPOINT_DIR, else the
    shipped checkpoints). `threads`: compute threads per tier."""
    if threads < 1:
        raise ValueError(f"threads={threads}; expected >= 1")
    missing = sorted({"edge", "fog", "cloud"} - set(ports))
    if missing:
        raise ValueError(f"ports lacks tiers {missing}; the three tiers need a port each")
    endpoints = endpoints_for(ports, prefix)
    services = {}
    for tier in ("edge", "fog", "cloud"):
        env = [f"PYTHONPATH={PACKAGE_ROOT}", f"SPLITVLM_THREADS={threads}",
               "SPLITVLM_HOST=127.0.0.1", "SPLITVLM_INSECURE=true"]  # a lab network
        if checkpoint_dir:
            env.append(f"SPLITVLM_CHECKPOINT_DIR={checkpoint_dir}")
        if tier == "edge":
            env.append(f"SPLITVLM_UNIX_SOCKET={edge_socket(state_dir)}")
        argv = ["env", *env, sys.executable, "-m", "splitvlm.cli", "serve", tier,
                "--port", str(ports[tier])]
        if tier in NEXT_HOP:
            argv += ["--next-hop", endpoints[NEXT_HOP[tier]]]
        services[tier] = argv
    return services
