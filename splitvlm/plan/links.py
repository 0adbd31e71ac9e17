"""Link estimates: bandwidth and RTT of edge-fog and fog-cloud, from probes and real transfers.

The cost of sending `payload_bytes` over a link is one round trip, the per-call overhead of a
hop, and serialisation:

    seconds = rtt_s + overhead_s + 8 * payload_bytes / bandwidth_bps    (bandwidth in bits/s)

The network (RTT, bandwidth) comes from active probes (a tiny ping and a large payload, unary
calls) and from real transfers whose serialisation is a good share of them. `overhead_s` is what
a real hop costs beyond that: a streaming call opened, the payload framed, the answer's tokens
relayed back; it is learnt from every other real transfer. (Folded into the RTT instead, the
probes and the transfers would pull one estimate two ways; folded into the bandwidth, a 2 KB
hand-off on a 100 Mbit/s link would read as a 5 Mbit/s link.) All three are `Ewma`s with a
change detector, so a 10x bandwidth drop is adopted after a few transfers (~`k` observations)
rather than crept towards. A failed transfer marks the link down;
any later success marks it up again. Traffic follows edge -> fog -> cloud, so the cloud is
reachable only while both links are up.
"""

from __future__ import annotations

import math

from splitvlm.plan.ewma import Ewma
from splitvlm.plan.plan import Link, Tier, crossed

# A passive transfer is a bandwidth sample when its predicted serialisation time is at least
# SERIALISATION_SHARE of the RTT plus overhead (large enough that a 10x bandwidth drop shows
# as such, not as overhead), else an overhead sample; its serialisation time is taken as at
# least MIN_SERIALISATION_SHARE of the transfer.
SERIALISATION_SHARE = 0.5
MIN_SERIALISATION_SHARE = 0.25


class LinkEstimator:
    """Bandwidth (bits/s) and RTT (s) of one link, with reachability."""

    def __init__(
        self, link: Link, bandwidth_bps: float, rtt_s: float, alpha: float = 0.3,
        factor: float = 2.0, k: int = 3, assumed: bool = False,
    ) -> None:
        """`assumed`: bandwidth and RTT are a guess, which the first measurement of each
        replaces outright (not an outlier to confirm k times)."""
        if not (math.isfinite(bandwidth_bps) and bandwidth_bps > 0):
            raise ValueError(f"bandwidth_bps={bandwidth_bps!r}; expected a finite number > 0")
        if not (math.isfinite(rtt_s) and rtt_s >= 0):
            raise ValueError(f"rtt_s={rtt_s!r}; expected a finite number >= 0")
        self.link = link
        self._bandwidth = Ewma(bandwidth_bps, alpha, factor, k)
        self._rtt = Ewma(rtt_s, alpha, factor, k)
        self._overhead = Ewma(0.0, alpha, factor, k)  # adopts its first sample
        self._assumed = {"bandwidth": True, "rtt": True} if assumed else {}
        self.reachable = True
        self.changes = 0  # detected step changes of bandwidth or RTT (a metric)

    @property
    def bandwidth_bps(self) -> float:
        return self._bandwidth.value

    @property
    def rtt_s(self) -> float:
        return self._rtt.value

    @property
    def overhead_s(self) -> float:
        """Seconds a real hop costs beyond RTT and serialisation (0 until one was seen)."""
        return self._overhead.value

    @property
    def fixed_s(self) -> float:
        """The part of every transfer that does not depend on its size: RTT + overhead."""
        return self.rtt_s + self.overhead_s

    def transfer_s(self, payload_bytes: float) -> float:
        """Predicted seconds to send `payload_bytes` (RTT, hop overhead, serialisation)."""
        return self.fixed_s + 8.0 * payload_bytes / self.bandwidth_bps

    def probe(self, small_rtt_s: float, large_bytes: int, large_s: float) -> None:
        """An active probe: a tiny round trip, then `large_bytes` sent in `large_s` seconds."""
        self._update_rtt(small_rtt_s)
        serialisation_s = large_s - small_rtt_s
        if large_bytes > 0 and serialisation_s > 0:
            self._update_bandwidth(8.0 * large_bytes / serialisation_s)
        self.reachable = True

    def reported(self, bandwidth_bps: float, rtt_s: float) -> None:
        """An estimate measured elsewhere (e.g. the fog's probe of its link to the cloud)."""
        if not (bandwidth_bps > 0 and math.isfinite(bandwidth_bps) and rtt_s >= 0):
            raise ValueError(f"reported link {bandwidth_bps!r} bit/s, rtt {rtt_s!r} s")
        self._update_rtt(rtt_s)
        self._update_bandwidth(bandwidth_bps)
        self.reachable = True

    def observe_transfer(self, payload_bytes: int, seconds: float) -> None:
        """A real transfer: `payload_bytes` acknowledged `seconds` after its first byte left."""
        if payload_bytes < 0 or not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"transfer of {payload_bytes!r} bytes in {seconds!r} s")
        predicted_serialisation_s = 8.0 * payload_bytes / self.bandwidth_bps
        if payload_bytes > 0 and (predicted_serialisation_s
                                  >= SERIALISATION_SHARE * self.fixed_s):
            # Serialisation counts: a bandwidth sample (RTT and overhead taken as known).
            serialisation_s = max(seconds - self.fixed_s, MIN_SERIALISATION_SHARE * seconds)
            if serialisation_s > 0:
                self._update_bandwidth(8.0 * payload_bytes / serialisation_s)
        else:
            self.changes += self._overhead.update(
                max(0.0, seconds - self.rtt_s - predicted_serialisation_s))
        self.reachable = True

    def observe_failure(self) -> None:
        """A transfer or probe failed: plan around this link until a success."""
        self.reachable = False

    def _update_bandwidth(self, sample_bps: float) -> None:
        if self._assumed.pop("bandwidth", False):  # the first measurement replaces a prior
            self._bandwidth = _like(self._bandwidth, sample_bps)
        else:
            self.changes += self._bandwidth.update(sample_bps)

    def _update_rtt(self, sample_s: float) -> None:
        if self._assumed.pop("rtt", False):
            self._rtt = _like(self._rtt, sample_s)
        else:
            self.changes += self._rtt.update(sample_s)


def _like(est: Ewma, value: float) -> Ewma:
    """A fresh estimate at `value` with the settings of `est`."""
    return Ewma(value, est.alpha, est.factor, est.k)


class LinkSet:
    """The two links of the chain edge -> fog -> cloud."""

    def __init__(self, edge_fog: LinkEstimator, fog_cloud: LinkEstimator) -> None:
        if edge_fog.link is not Link.EDGE_FOG or fog_cloud.link is not Link.FOG_CLOUD:
            raise ValueError(f"links given as ({edge_fog.link}, {fog_cloud.link}); "
                             "expected (edge-fog, fog-cloud)")
        self._links = {Link.EDGE_FOG: edge_fog, Link.FOG_CLOUD: fog_cloud}

    @classmethod
    def of(cls, edge_fog: tuple[float, float], fog_cloud: tuple[float, float]) -> LinkSet:
        """From (bandwidth_bps, rtt_s) pairs, e.g. `LinkSet.of((50e6, 0.005), (1e9, 0.03))`."""
        return cls(LinkEstimator(Link.EDGE_FOG, *edge_fog),
                   LinkEstimator(Link.FOG_CLOUD, *fog_cloud))

    def __getitem__(self, link: Link) -> LinkEstimator:
        return self._links[link]

    def reachable(self, tier: Tier) -> bool:
        """Whether the edge can reach `tier` now (the edge itself always)."""
        return all(self._links[link].reachable for link in crossed(Tier.EDGE, tier))
