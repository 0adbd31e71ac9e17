"""Network namespaces and veth pairs: the testbed's three hosts and two wires.

    [prefix-edge] ef-e 10.231.1.1/30 ==== 10.231.1.2/30 ef-f [prefix-fog] fc-f 10.231.2.1/30
                                                                   ||
    [prefix-cloud] fc-c 10.231.2.2/30 ==================================

Each namespace has only its own loopback and veths, no default route, and the fog keeps
`ip_forward=0`: the edge cannot reach the cloud except through the fog's application.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from splitvlm.testbed.commands import in_netns, run

TIERS = ("edge", "fog", "cloud")
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,7}$")  # device names must fit IFNAMSIZ (15)


@dataclass(frozen=True)
class VethLink:
    """One veth pair joining two namespaces, each end with its address in a /30."""

    name: str
    """Link identifier, "edge_fog" or "fog_cloud" (the Profile field that shapes it)."""
    a_tier: str
    a_dev: str
    a_addr: str
    b_tier: str
    b_dev: str
    b_addr: str
    prefix_len: int = 30


@dataclass(frozen=True)
class Topology:
    """Names and addresses of everything one testbed creates, derived from `prefix`."""

    prefix: str = "svtb"

    def __post_init__(self) -> None:
        if not PREFIX_RE.match(self.prefix):
            raise ValueError(f"prefix must match {PREFIX_RE.pattern}, got {self.prefix!r}")

    def ns(self, tier: str) -> str:
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}, got {tier!r}")
        return f"{self.prefix}-{tier}"

    @property
    def namespaces(self) -> list[str]:
        return [self.ns(t) for t in TIERS]

    @property
    def links(self) -> tuple[VethLink, VethLink]:
        p = self.prefix
        return (
            VethLink(
                "edge_fog", "edge", f"{p}-ef-e", "10.231.1.1", "fog", f"{p}-ef-f", "10.231.1.2"
            ),
            VethLink(
                "fog_cloud", "fog", f"{p}-fc-f", "10.231.2.1", "cloud", f"{p}-fc-c", "10.231.2.2"
            ),
        )

    def server_addr(self, tier: str) -> str:
        """The address at which the tier below reaches `tier` (fog or cloud)."""
        for link in self.links:
            if link.b_tier == tier:
                return link.b_addr
        raise ValueError(f"only fog and cloud are reached over a link, got {tier!r}")


def existing_namespaces() -> set[str]:
    out = run(["ip", "netns", "list"]).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def create(topo: Topology) -> None:
    """Create the namespaces and veths, addressed and up. Raises TestbedError."""
    for ns in topo.namespaces:
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
    run(in_netns(topo.ns("fog"), ["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]))
    for link in topo.links:
        a_ns, b_ns = topo.ns(link.a_tier), topo.ns(link.b_tier)
        run(["ip", "link", "add", link.a_dev, "netns", a_ns, "type", "veth",
             "peer", "name", link.b_dev, "netns", b_ns])  # fmt: skip
        for ns, dev, addr in ((a_ns, link.a_dev, link.a_addr), (b_ns, link.b_dev, link.b_addr)):
            run(["ip", "-n", ns, "addr", "add", f"{addr}/{link.prefix_len}", "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])


def destroy(topo: Topology) -> list[str]:
    """Delete veths and namespaces that exist; returns what could not be removed."""
    problems: list[str] = []
    present = existing_namespaces()
    for link in topo.links:
        for tier, dev in ((link.a_tier, link.a_dev), (link.b_tier, link.b_dev)):
            ns = topo.ns(tier)
            if ns in present and _has_link(["ip", "-n", ns], dev):
                run(["ip", "-n", ns, "link", "del", dev], check=False)
            if _has_link(["ip"], dev):  # a half-made pair left in the root namespace
                run(["ip", "link", "del", dev], check=False)
    for ns in topo.namespaces:
        if ns in present:
            done = run(["ip", "netns", "del", ns], check=False)
            if done.returncode != 0:
                problems.append(f"netns {ns}: {done.stderr.strip()}")
    return problems


def _has_link(ip: list[str], dev: str) -> bool:
    return run([*ip, "link", "show", "dev", dev], check=False).returncode == 0
