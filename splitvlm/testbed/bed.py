"""The emulated edge–fog–cloud testbed: namespaces, shaped veths, delaying relays, an edge
CPU quota, and the tiers' services running inside it.

    with Testbed(get_profile("lte"), services={"fog": [...], "cloud": [...]},
                 ports={"fog": 50052, "cloud": 50053}) as bed:
        subprocess.run(bed.exec_argv("edge", ["python", "client.py", bed.fog_endpoint]))

Ports: a service listens on `ports[tier]` on its namespace's loopback (127.0.0.1). For fog
and cloud, a relay in the same namespace listens on the veth address at the same port and
forwards to loopback with the link's one-way delay each way; services must therefore bind
127.0.0.1, not a wildcard, so that all traffic crosses the relay.

    edge ns ──veth (tbf)──▶ fog relay 10.231.1.2:P ─(delay)─▶ fog service 127.0.0.1:P
    fog ns  ──veth (tbf)──▶ cloud relay 10.231.2.2:Q ─(delay)─▶ cloud service 127.0.0.1:Q
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any

from splitvlm.testbed import cgroup, netns, procs, shaping, state
from splitvlm.testbed.commands import in_netns, run
from splitvlm.testbed.errors import TestbedBusyError, TestbedError
from splitvlm.testbed.netns import TIERS, Topology
from splitvlm.testbed.preflight import root_reason
from splitvlm.testbed.profiles import LinkSpec, Profile, get_profile

DEFAULT_PORTS = {"edge": 50051, "fog": 50052, "cloud": 50053}
LOOPBACK = "127.0.0.1"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def endpoints_for(ports: Mapping[str, int], prefix: str = "svtb") -> dict[str, str]:
    """HOST:PORT per tier in `ports`: the edge's is on its own loopback (reach it from the edge
    namespace); fog's and cloud's are their relays, reached from the tier below."""
    topo = Topology(prefix)
    out = {}
    for tier, port in ports.items():
        host = LOOPBACK if tier == "edge" else topo.server_addr(tier)
        out[tier] = f"{host}:{port}"
    return out


def _check_tiers(field: str, mapping: Mapping[str, Any]) -> None:
    unknown = sorted(set(mapping) - set(TIERS))
    if unknown:
        raise ValueError(f"{field} has unknown tiers {unknown}; valid: {list(TIERS)}")


class Testbed:
    """One testbed, named by `prefix`; up() builds it, down() removes every trace of it."""

    def __init__(
        self,
        profile: Profile,
        services: Mapping[str, Sequence[str]] | None = None,
        ports: Mapping[str, int] | None = None,
        *,
        prefix: str = "svtb",
        state_root: Path | None = None,
        ready_timeout_s: float = 30.0,
    ) -> None:
        self.profile = profile
        self.services = {t: list(argv) for t, argv in (services or {}).items()}
        self.ports = dict(ports if ports is not None else {})
        _check_tiers("services", self.services)
        _check_tiers("ports", self.ports)
        for tier, argv in self.services.items():
            if not argv or not all(isinstance(a, str) for a in argv):
                raise ValueError(f"services[{tier!r}] must be a non-empty argv, got {argv!r}")
        for tier, port in self.ports.items():
            if not 1 <= port <= 65535:
                raise ValueError(f"ports[{tier!r}] must be in [1, 65535], got {port!r}")
        self.topology = Topology(prefix)
        self.state_dir = state.state_dir(prefix, state_root)
        self.cgroup_path = cgroup.group_path(f"{prefix}-edge")
        self.ready_timeout_s = ready_timeout_s
        self._children: list[subprocess.Popen[bytes]] = []  # reaped in down()
        self._records: list[procs.ProcRecord] = []

    # --- endpoints -------------------------------------------------------------------------

    def endpoint(self, tier: str) -> str:
        """HOST:PORT of `tier`'s service as seen from the tier below (edge: from the edge)."""
        if tier not in self.ports:
            raise ValueError(f"no port configured for tier {tier!r}; ports={self.ports}")
        return endpoints_for({tier: self.ports[tier]}, self.topology.prefix)[tier]

    @property
    def fog_endpoint(self) -> str:
        return self.endpoint("fog")

    @property
    def cloud_endpoint(self) -> str:
        return self.endpoint("cloud")

    @property
    def edge_endpoint(self) -> str:
        return self.endpoint("edge")

    def exec_argv(self, tier: str, argv: Sequence[str]) -> list[str]:
        """`argv` prefixed to run inside `tier`'s namespace (and, for the edge, its cgroup).

        The edge joins its cgroup before `ip netns exec`, which remounts /sys and so hides
        /sys/fs/cgroup from the command it runs."""
        in_ns = in_netns(self.topology.ns(tier), argv)
        return cgroup.wrap_argv(self.cgroup_path, in_ns) if tier == "edge" else in_ns

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Testbed:
        self.up()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.down()

    def up(self) -> None:
        """Build the testbed and start relays and services. On failure everything is removed
        again and TestbedError (TestbedBusyError if one is already up) is raised."""
        reason = root_reason(probe=False)
        if reason:
            raise TestbedError(reason)
        if self._present():
            raise TestbedBusyError(
                f"testbed {self.topology.prefix!r} is already up (or left over); "
                "run `splitvlm testbed down` first"
            )
        try:
            self._save()  # before anything exists, so a crash mid-way can still be undone
            netns.create(self.topology)
            self._shape_links()
            cgroup.create(self.cgroup_path, self.profile.edge_cpu_quota)
            self._start_relays()
            self._start_services()
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """Stop processes and remove relays, qdiscs, veths, namespaces, cgroup and state.
        Idempotent; raises TestbedError naming whatever could not be removed."""
        teardown(self.topology, self.state_dir, self.cgroup_path, self._children)
        self._children.clear()
        self._records.clear()

    def status(self) -> dict[str, Any]:
        return testbed_status(self.topology.prefix, self.state_dir.parent)

    def set_bandwidth(self, link_name: str, bandwidth_bps: float) -> None:
        """Reshape `link_name` ("edge_fog" or "fog_cloud") to `bandwidth_bps` on both ends,
        while the testbed runs (the delay stays). Raises TestbedError if tc fails."""
        link = next((k for k in self.topology.links if k.name == link_name), None)
        if link is None:
            names = [k.name for k in self.topology.links]
            raise ValueError(f"link_name={link_name!r}; expected one of {names}")
        LinkSpec(bandwidth_bps, 0.0)  # validates the rate (ValueError names it)
        shaping.shape(self.topology.ns(link.a_tier), link.a_dev, bandwidth_bps)
        shaping.shape(self.topology.ns(link.b_tier), link.b_dev, bandwidth_bps)

    # --- steps of up() ---------------------------------------------------------------------

    def _present(self) -> bool:
        existing = netns.existing_namespaces()
        return (
            state.read(self.state_dir) is not None
            or any(ns in existing for ns in self.topology.namespaces)
            or self.cgroup_path.exists()
        )

    def _save(self) -> None:
        state.write(self.state_dir, {
            "prefix": self.topology.prefix,
            "profile": asdict(self.profile),
            "ports": self.ports,
            "endpoints": endpoints_for(self.ports, self.topology.prefix),
            "cgroup": str(self.cgroup_path),
            "processes": [r.to_json() for r in self._records],
        })  # fmt: skip

    def _shape_links(self) -> None:
        for link in self.topology.links:
            spec = getattr(self.profile, link.name)
            shaping.shape(self.topology.ns(link.a_tier), link.a_dev, spec.bandwidth_bps)
            shaping.shape(self.topology.ns(link.b_tier), link.b_dev, spec.bandwidth_bps)

    def _start_relays(self) -> None:
        for link in self.topology.links:
            port = self.ports.get(link.b_tier)
            if port is None:
                continue
            argv = [sys.executable, "-m", "splitvlm.testbed.relay",
                    "--listen", f"{link.b_addr}:{port}", "--target", f"{LOOPBACK}:{port}",
                    "--delay-s", repr(getattr(self.profile, link.name).delay_s)]  # fmt: skip
            env = _env_with_package()
            self._launch("relay", link.b_tier, in_netns(self.topology.ns(link.b_tier), argv),
                         port, frozenset(), env)  # fmt: skip

    def _start_services(self) -> None:
        for tier in ("cloud", "fog", "edge"):  # each tier's upstream is up before it starts
            argv = self.services.get(tier)
            if argv is None:
                continue
            relay_addr = frozenset() if tier == "edge" else {self.topology.server_addr(tier)}
            self._launch("service", tier, self.exec_argv(tier, argv), self.ports.get(tier),
                         frozenset(relay_addr), None)  # fmt: skip

    def _launch(
        self,
        role: str,
        tier: str,
        argv: list[str],
        port: int | None,
        ignore_addrs: frozenset[str],
        env: dict[str, str] | None,
    ) -> None:
        log = self.state_dir / f"{role}-{tier}.log"
        proc = procs.start(argv, log, env)
        self._children.append(proc)
        ticks = procs.start_ticks(proc.pid) or 0
        self._records.append(procs.ProcRecord(role, tier, proc.pid, ticks, argv, str(log)))
        self._save()
        if port is None:
            return
        try:
            procs.wait_listening(proc, port, self.ready_timeout_s, ignore_addrs)
        except TestbedError as exc:
            tail = procs.log_tail(log)
            raise TestbedError(f"{tier} {role} {argv}: {exc}\n--- {log} ---\n{tail}") from exc


def _env_with_package() -> dict[str, str]:
    """The environment with this checkout importable, for `python -m splitvlm...`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    return env


def teardown(
    topo: Topology,
    directory: Path,
    cgroup_path: Path,
    children: Sequence[subprocess.Popen[bytes]] = (),
) -> None:
    """Remove everything of the testbed `topo`, whether or not its state file survives."""
    recorded = state.read(directory) or {}
    records = [procs.ProcRecord.from_json(r) for r in recorded.get("processes", [])]
    cgroup_path = Path(recorded.get("cgroup", cgroup_path))
    present = netns.existing_namespaces()
    ns_pids = [int(pid) for ns in topo.namespaces if ns in present
               for pid in run(["ip", "netns", "pids", ns], check=False).stdout.split()]  # fmt: skip
    survivors = procs.stop(records, [*ns_pids, *cgroup.pids(cgroup_path)], children)
    problems = [f"process {pid} survived SIGKILL" for pid in survivors]
    for link in topo.links:
        for tier, dev in ((link.a_tier, link.a_dev), (link.b_tier, link.b_dev)):
            if topo.ns(tier) in present:
                shaping.unshape(topo.ns(tier), dev)
    problems += netns.destroy(topo)
    try:
        cgroup.remove(cgroup_path)
    except TestbedError as exc:
        problems.append(str(exc))
    if problems:
        raise TestbedError("testbed down left things behind: " + "; ".join(problems))
    state.remove(directory)


# --- the functions behind `splitvlm testbed up|down|status` --------------------------------


def testbed_up(
    profile_name: str,
    services: Mapping[str, Sequence[str]] | None = None,
    ports: Mapping[str, int] | None = None,
    *,
    prefix: str = "svtb",
    state_root: Path | None = None,
    ready_timeout_s: float = 30.0,
) -> Testbed:
    """Bring up the testbed with preset `profile_name`; it stays up until testbed_down()."""
    bed = Testbed(get_profile(profile_name), services, ports if ports is not None
                  else DEFAULT_PORTS, prefix=prefix, state_root=state_root,
                  ready_timeout_s=ready_timeout_s)  # fmt: skip
    bed.up()
    return bed


def testbed_down(prefix: str = "svtb", state_root: Path | None = None) -> None:
    """Remove the testbed `prefix`, from any process. Does nothing if it is not up."""
    topo = Topology(prefix)
    teardown(topo, state.state_dir(prefix, state_root), cgroup.group_path(f"{prefix}-edge"))


def testbed_status(prefix: str = "svtb", state_root: Path | None = None) -> dict[str, Any]:
    """What exists of the testbed `prefix` right now, plus what its state file recorded."""
    topo = Topology(prefix)
    directory = state.state_dir(prefix, state_root)
    recorded = state.read(directory)
    present = netns.existing_namespaces()
    cgroup_path = cgroup.group_path(f"{prefix}-edge")
    processes = [
        {**r, "alive": procs.is_alive(r["pid"], r["start_ticks"])}
        for r in (recorded or {}).get("processes", [])
    ]
    links = {
        link.name: {
            dev: shaping.show(topo.ns(tier), dev)
            for tier, dev in ((link.a_tier, link.a_dev), (link.b_tier, link.b_dev))
            if topo.ns(tier) in present
        }
        for link in topo.links
    }
    return {
        "prefix": prefix,
        "up": all(ns in present for ns in topo.namespaces),
        "namespaces": {ns: ns in present for ns in topo.namespaces},
        "state_file": str(directory / state.STATE_NAME) if recorded else None,
        "profile": (recorded or {}).get("profile"),
        "endpoints": (recorded or {}).get("endpoints", {}),
        "qdiscs": links,
        "edge_cpu_quota_us": cgroup.quota_us(cgroup_path),
        "processes": processes,
    }
