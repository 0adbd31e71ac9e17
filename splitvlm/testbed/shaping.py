"""Bandwidth shaping with `tc tbf` (token bucket) on a veth end.

Shaping both ends of a veth limits both directions. netem is not available in this kernel, so
delay is added by `splitvlm.testbed.relay` instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from splitvlm.testbed.commands import in_netns, run

FRAME_BYTES = 1514  # an Ethernet frame at MTU 1500; tbf drops packets larger than its burst
BURST_WINDOW_S = 0.005  # the bucket holds ~5 ms of traffic at full rate
MIN_QUEUE_S = 0.05  # tbf `latency`: how long a packet may wait in the queue
MIN_QUEUE_FRAMES = 4  # ... but at low rates the queue still holds a few frames
MAX_GSO_SEGS = 64


@dataclass(frozen=True)
class TbfParams:
    """Arguments of one `tc qdisc add ... tbf`."""

    rate_bps: int
    burst_bytes: int
    latency_s: float
    gso_max_segs: int
    """Largest GSO packet the veth may hand to tbf, in frames. A packet larger than the burst
    is split by tbf into a burst of segments that overflows its queue; capping GSO to fit the
    burst cut drops ~4x and brought a 2 Mbit/s link from ~78 % to ~92 % of its rate."""

    def tc_args(self) -> list[str]:
        latency_ms = max(1, math.ceil(self.latency_s * 1e3))
        return ["tbf", "rate", f"{self.rate_bps}bit", "burst", str(self.burst_bytes),
                "latency", f"{latency_ms}ms"]  # fmt: skip


def tbf_params(bandwidth_bps: float) -> TbfParams:
    """Token-bucket settings for a link of `bandwidth_bps` bits per second."""
    rate_bps = max(1, round(bandwidth_bps))
    burst_bytes = max(2 * FRAME_BYTES, math.ceil(rate_bps / 8 * BURST_WINDOW_S))
    latency_s = max(MIN_QUEUE_S, MIN_QUEUE_FRAMES * FRAME_BYTES * 8 / rate_bps)
    gso_max_segs = min(MAX_GSO_SEGS, max(1, burst_bytes // FRAME_BYTES))
    return TbfParams(rate_bps, burst_bytes, latency_s, gso_max_segs)


def shape(ns: str, dev: str, bandwidth_bps: float) -> TbfParams:
    """Limit `dev` in namespace `ns` to `bandwidth_bps`: cap its GSO size, then replace its
    root qdisc with a tbf."""
    params = tbf_params(bandwidth_bps)
    run(["ip", "-n", ns, "link", "set", "dev", dev, "gso_max_segs", str(params.gso_max_segs)])
    run(in_netns(ns, ["tc", "qdisc", "replace", "dev", dev, "root", *params.tc_args()]))
    return params


def unshape(ns: str, dev: str) -> None:
    """Remove the root qdisc of `dev` if there is one (the device keeps its default)."""
    run(in_netns(ns, ["tc", "qdisc", "del", "dev", dev, "root"]), check=False)


def show(ns: str, dev: str) -> str:
    """`tc qdisc show` for `dev`, one line per qdisc, or "" when the device is gone."""
    done = run(in_netns(ns, ["tc", "qdisc", "show", "dev", dev]), check=False)
    return done.stdout.strip() if done.returncode == 0 else ""
