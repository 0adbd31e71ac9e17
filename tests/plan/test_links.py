from __future__ import annotations

import pytest

from splitvlm.plan.ewma import Ewma
from splitvlm.plan.links import LinkEstimator, LinkSet
from splitvlm.plan.plan import Link, Tier, crossed


def test_a_10x_bandwidth_drop_is_adopted_within_a_handful_of_transfers() -> None:
    link = LinkEstimator(Link.EDGE_FOG, bandwidth_bps=100e6, rtt_s=0.005)
    for _ in range(20):  # 1 MB at 100 Mbit/s: 80 ms + rtt
        link.observe_transfer(1_000_000, 0.005 + 0.08)
    assert link.bandwidth_bps == pytest.approx(100e6, rel=0.01)
    noticed = None
    for n in range(1, 11):  # now 10 Mbit/s: 800 ms each
        link.observe_transfer(1_000_000, 0.005 + 0.8)
        if link.bandwidth_bps < 20e6:
            noticed = n
            break
    assert noticed is not None and noticed <= 4
    assert link.bandwidth_bps == pytest.approx(10e6, rel=0.05)
    assert link.changes == 1


def test_one_slow_transfer_is_not_a_change() -> None:
    link = LinkEstimator(Link.FOG_CLOUD, bandwidth_bps=1e9, rtt_s=0.02)
    link.observe_transfer(10_000_000, 0.02 + 0.8)  # one 10x outlier
    assert link.bandwidth_bps == 1e9
    link.observe_transfer(10_000_000, 0.02 + 0.08)
    assert link.bandwidth_bps == pytest.approx(1e9)


def test_small_transfers_learn_the_hop_overhead_and_probes_the_network() -> None:
    link = LinkEstimator(Link.EDGE_FOG, bandwidth_bps=50e6, rtt_s=0.01)
    for _ in range(10):  # real hops of 100 B take 2 ms more than a probe's round trip
        link.observe_transfer(100, 0.012 + 8 * 100 / 50e6)
    assert link.rtt_s == 0.01 and link.bandwidth_bps == 50e6  # the network as probed
    assert link.overhead_s == pytest.approx(0.002, rel=0.05)
    assert link.transfer_s(100) == pytest.approx(0.012 + 8 * 100 / 50e6, rel=0.01)
    link.probe(small_rtt_s=0.011, large_bytes=1_000_000, large_s=0.011 + 0.2)  # 40 Mbit/s
    assert link.bandwidth_bps == pytest.approx(50e6 + 0.3 * (40e6 - 50e6))
    assert link.rtt_s == pytest.approx(0.01 + 0.3 * 0.001)
    assert link.transfer_s(1_000) == pytest.approx(
        link.rtt_s + link.overhead_s + 8_000 / link.bandwidth_bps)


def test_the_first_measurement_replaces_the_assumed_link() -> None:
    link = LinkEstimator(Link.EDGE_FOG, bandwidth_bps=1e6, rtt_s=0.05, assumed=True)
    link.reported(100e6, 0.002)  # 100x off the guess: taken at once, not as an outlier
    assert (link.bandwidth_bps, link.rtt_s, link.changes) == (100e6, 0.002, 0)
    link.reported(10e6, 0.002)  # from now on a far-off sample is an outlier
    assert link.bandwidth_bps == 100e6


def test_a_small_payload_on_a_fast_link_is_not_read_as_a_slow_link() -> None:
    link = LinkEstimator(Link.EDGE_FOG, bandwidth_bps=100e6, rtt_s=0.002)
    for _ in range(10):  # 2.5 KB features: 0.2 ms on the wire, 5 ms for the hop
        link.observe_transfer(2_500, 0.005)
    assert link.bandwidth_bps == 100e6
    assert link.transfer_s(2_500) == pytest.approx(0.005, rel=0.05)


def test_reachability_follows_failures_and_successes() -> None:
    links = LinkSet.of((50e6, 0.005), (1e9, 0.03))
    assert all(links.reachable(t) for t in Tier)
    links[Link.FOG_CLOUD].observe_failure()
    assert links.reachable(Tier.FOG) and not links.reachable(Tier.CLOUD)
    links[Link.EDGE_FOG].observe_failure()
    assert links.reachable(Tier.EDGE) and not links.reachable(Tier.FOG)
    links[Link.EDGE_FOG].probe(0.005, 10_000, 0.01)
    links[Link.FOG_CLOUD].observe_transfer(10, 0.03)
    assert links.reachable(Tier.CLOUD)


def test_crossed_links_and_validation() -> None:
    assert crossed(Tier.EDGE, Tier.CLOUD) == (Link.EDGE_FOG, Link.FOG_CLOUD)
    assert crossed(Tier.FOG, Tier.CLOUD) == (Link.FOG_CLOUD,)
    assert crossed(Tier.EDGE, Tier.FOG) == (Link.EDGE_FOG,)
    with pytest.raises(ValueError, match="bandwidth_bps"):
        LinkEstimator(Link.EDGE_FOG, 0.0, 0.01)
    with pytest.raises(ValueError, match="expected \\(edge-fog, fog-cloud\\)"):
        LinkSet(LinkEstimator(Link.FOG_CLOUD, 1e6, 0.0), LinkEstimator(Link.FOG_CLOUD, 1e6, 0.0))


def test_ewma_detects_changes_on_one_side_only() -> None:
    est = Ewma(10.0, alpha=0.5, factor=2.0, k=3)
    assert not est.update(12.0) and est.value == 11.0
    assert not est.update(100.0) and not est.update(1.0)  # sides alternate: no change
    assert not est.update(100.0) and not est.update(110.0)
    assert est.update(90.0) and est.value == 100.0  # median of the three
    with pytest.raises(ValueError, match="alpha"):
        Ewma(1.0, alpha=0.0)
    fresh = Ewma(0.0)
    fresh.update(3.0)
    assert fresh.value == 3.0
