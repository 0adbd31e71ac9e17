"""Network and CPU profiles of the emulated edge–fog–cloud testbed.

A `Profile` names the two links (edge–fog, fog–cloud) and the edge's CPU share. The presets
span a wired LAN down to a congested uplink; `get_profile("lte")` picks one by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_BANDWIDTH_BPS = 8_000.0  # below this tbf's burst/latency arithmetic stops making sense
MAX_BANDWIDTH_BPS = 100e9
MAX_DELAY_S = 10.0
MIN_CPU_QUOTA = 0.01  # cfs_quota_us must be >= 1000 for a 100 ms period
MAX_CPU_QUOTA = 64.0


def _check_range(field: str, value: float, low: float, high: float) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{field} must be in [{low:g}, {high:g}], got {value!r}")


@dataclass(frozen=True)
class LinkSpec:
    """One link between two adjacent tiers; both directions get the same shape."""

    bandwidth_bps: float
    """Rate in bits per second, enforced by `tc tbf` on both ends of the veth."""
    delay_s: float
    """One-way delay in seconds, added by the delaying relay; a round trip costs twice this."""

    def __post_init__(self) -> None:
        _check_range("bandwidth_bps", self.bandwidth_bps, MIN_BANDWIDTH_BPS, MAX_BANDWIDTH_BPS)
        _check_range("delay_s", self.delay_s, 0.0, MAX_DELAY_S)

    @property
    def rtt_s(self) -> float:
        return 2.0 * self.delay_s


@dataclass(frozen=True)
class Profile:
    """Conditions of one testbed run."""

    name: str
    """Short identifier, e.g. "lte"; used in reports and state files."""
    edge_fog: LinkSpec
    """The edge device's access link to the fog node."""
    fog_cloud: LinkSpec
    """The fog node's uplink to the cloud."""
    edge_cpu_quota: float = 0.25
    """CPUs the edge may use (cgroup cfs quota / period); 0.25 is a quarter of one core."""

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"name must be a non-empty identifier, got {self.name!r}")
        for field in ("edge_fog", "fog_cloud"):
            link = getattr(self, field)
            if not isinstance(link, LinkSpec):
                raise ValueError(f"{field} must be a LinkSpec, got {type(link).__name__}")
        _check_range("edge_cpu_quota", self.edge_cpu_quota, MIN_CPU_QUOTA, MAX_CPU_QUOTA)


MBIT = 1e6
MS = 1e-3

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("lan", LinkSpec(100 * MBIT, 1 * MS), LinkSpec(1000 * MBIT, 10 * MS)),
        Profile("wifi", LinkSpec(20 * MBIT, 5 * MS), LinkSpec(200 * MBIT, 20 * MS)),
        Profile("lte", LinkSpec(5 * MBIT, 30 * MS), LinkSpec(100 * MBIT, 40 * MS)),
        Profile("congested", LinkSpec(0.5 * MBIT, 80 * MS), LinkSpec(20 * MBIT, 60 * MS)),
    )
}


def get_profile(name: str) -> Profile:
    """The preset called `name`; ValueError lists the valid names otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        valid = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown testbed profile {name!r}; valid: {valid}") from None
