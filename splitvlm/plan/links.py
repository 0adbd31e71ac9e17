"""Link estimates: bandwidth and RTT of edge-fog and fog-cloud, from probes and real transfers.

The cost of sending `payload_bytes` over a link is one round trip plus serialisation:

    seconds = rtt_s + 8 * payload_bytes / bandwidth_bps      (bandwidth in bits per second)

Active probes (a tiny ping and a large payload) and every real transfer feed the estimates.
Both are `Ewma`s with a change detector, so a 10x bandwidth drop is adopted after a few
transfers (~`k` observations) rather than crept towards. A failed transfer marks the link down;
any later success marks it up again. Traffic follows edge -> fog -> cloud, so the cloud is
reachable only while both links are up.
"""

from __future__ import annotations

import math
from enum import StrEnum

from splitvlm.plan.ewma import Ewma
from splitvlm.plan.plan import Tier


class Link(StrEnum):
    EDGE_FOG = "edge-fog"
    FOG_CLOUD = "fog-cloud"


LINKS = (Link.EDGE_FOG, Link.FOG_CLOUD)
# A passive transfer is a bandwidth sample when its predicted serialisation time is at least
# the RTT, else an RTT sample; its serialisation time is taken as at least this share of it.
MIN_SERIALISATION_SHARE = 0.25


def crossed(sender: Tier, receiver: Tier) -> tuple[Link, ...]:
    """The links a hand-off from `sender` to `receiver` crosses (a relay crosses both)."""
    return LINKS[sender.order:receiver.order]


class LinkEstimator:
    """Bandwidth (bits/s) and RTT (s) of one link, with reachability."""

    def __init__(
        self, link: Link, bandwidth_bps: float, rtt_s: float, alpha: float = 0.3,
        factor: float = 2.0, k: int = 3,
    ) -> None:
        if not (math.isfinite(bandwidth_bps) and bandwidth_bps > 0):
            raise ValueError(f"bandwidth_bps={bandwidth_bps!r}; expected a finite number > 0")
        if not (math.isfinite(rtt_s) and rtt_s >= 0):
            raise ValueError(f"rtt_s={rtt_s!r}; expected a finite number >= 0")
        self.link = link
        self._bandwidth = Ewma(bandwidth_bps, alpha, factor, k)
        self._rtt = Ewma(rtt_s, alpha, factor, k)
        self.reachable = True
        self.changes = 0  # detected step changes of bandwidth or RTT (a metric)

    @property
    def bandwidth_bps(self) -> float:
        return self._bandwidth.value

    @property
    def rtt_s(self) -> float:
        return self._rtt.value

    def transfer_s(self, payload_bytes: float) -> float:
        """Predicted seconds to send `payload_bytes` (one RTT plus serialisation)."""
        return self.rtt_s + 8.0 * payload_bytes / self.bandwidth_bps

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
        if payload_bytes > 0 and predicted_serialisation_s >= self.rtt_s:
            # Serialisation dominates: a bandwidth sample (the RTT estimate taken as known).
            serialisation_s = max(seconds - self.rtt_s, MIN_SERIALISATION_SHARE * seconds)
            if serialisation_s > 0:
                self._update_bandwidth(8.0 * payload_bytes / serialisation_s)
        else:
            self._update_rtt(max(0.0, seconds - predicted_serialisation_s))
        self.reachable = True

    def observe_failure(self) -> None:
        """A transfer or probe failed: plan around this link until a success."""
        self.reachable = False

    def _update_bandwidth(self, sample_bps: float) -> None:
        self.changes += self._bandwidth.update(sample_bps)

    def _update_rtt(self, sample_s: float) -> None:
        self.changes += self._rtt.update(sample_s)


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
