"""The three tiers as separate `splitvlm serve` processes on loopback ports (tests, benches).

    cluster = start_cluster()          # cloud, fog, edge; each told where the next one is
    ... Client(cluster.edge) ...
    cluster.stop()                     # SIGTERM, then wait (SIGKILL after 15 s)

Loopback processes for tests and benchmarks: plaintext (SPLITVLM_INSECURE=true) and quiet
(SPLITVLM_LOG_LEVEL=warning) unless `env` says otherwise.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field

SERVING = re.compile(r"serving on [\d.]+:(\d+)")


@dataclass
class TierProcess:
    tier: str
    proc: subprocess.Popen[str]
    port: int

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL (nothing once it has exited), reap it, close its pipe."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@dataclass
class ProcessCluster:
    tiers: dict[str, TierProcess] = field(default_factory=dict)

    @property
    def edge(self) -> str:
        return self.tiers["edge"].target

    def stop(self) -> None:
        for tp in self.tiers.values():
            if tp.proc.poll() is None:
                tp.proc.send_signal(signal.SIGTERM)
        for tp in self.tiers.values():
            try:
                tp.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                tp.proc.kill()
                tp.proc.wait()
            if tp.proc.stdout is not None:
                tp.proc.stdout.close()


def start_tier(tier: str, next_hop: str = "", env: dict[str, str] | None = None,
               port: int = 0, cpus: frozenset[int] | None = None) -> TierProcess:
    """Start one tier (on `port`; 0: a free one; on the CPUs `cpus`, None: any) and wait until
    it prints its port (RuntimeError if it dies first)."""
    argv = [*_pinned(cpus), sys.executable, "-m", "splitvlm.cli", "serve", tier, "--port",
            str(port)]
    if next_hop:
        argv += ["--next-hop", next_hop]
    return _started(tier, argv, {"SPLITVLM_THREADS": "1", "SPLITVLM_INSECURE": "true",
                                 "SPLITVLM_LOG_LEVEL": "warning", **(env or {})})


def start_agent(config: str, env: dict[str, str] | None = None,
                cpus: frozenset[int] | None = None) -> TierProcess:
    """`splitvlm agent --config CONFIG` on a free port (unless CONFIG or env says one), on the
    CPUs `cpus` (None: any)."""
    argv = [*_pinned(cpus), sys.executable, "-m", "splitvlm.cli", "agent", "--config", config]
    return _started("agent", argv, {"SPLITVLM_AGENT_PORT": "0",
                                    "SPLITVLM_LOG_LEVEL": "warning", **(env or {})})


def _pinned(cpus: frozenset[int] | None) -> list[str]:
    """The taskset prefix that runs a process on `cpus` from its first instruction (so every
    thread it starts inherits them); nothing for None."""
    return [] if cpus is None else ["taskset", "--cpu-list", ",".join(map(str, sorted(cpus)))]


def _started(name: str, argv: list[str], env: dict[str, str]) -> TierProcess:
    """Start `argv` and wait until it prints the port it serves on (RuntimeError if it dies
    first)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env={**os.environ, **env})
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the server prints its port (or dies)
    match = SERVING.search(line)
    if match is None:
        proc.kill()
        raise RuntimeError(f"{' '.join(argv[-5:])} did not start: {line!r}")
    return TierProcess(name, proc, int(match.group(1)))


def start_cluster(env: dict[str, str] | None = None,
                  cpus: frozenset[int] | None = None) -> ProcessCluster:
    cluster = ProcessCluster()
    try:
        cluster.tiers["cloud"] = start_tier("cloud", env=env, cpus=cpus)
        cluster.tiers["fog"] = start_tier("fog", cluster.tiers["cloud"].target, env, cpus=cpus)
        cluster.tiers["edge"] = start_tier("edge", cluster.tiers["fog"].target, env, cpus=cpus)
    except BaseException:
        cluster.stop()
        raise
    return cluster
