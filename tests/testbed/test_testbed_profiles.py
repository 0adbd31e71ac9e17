"""Profiles, tbf parameters, names and endpoints, and the CLI's argument handling (no root)."""

from __future__ import annotations

import math

import pytest

from splitvlm.testbed import PROFILES, LinkSpec, Profile, endpoints_for, get_profile, preflight
from splitvlm.testbed.cli import main
from splitvlm.testbed.netns import Topology
from splitvlm.testbed.shaping import FRAME_BYTES, tbf_params


def test_presets_match_the_design() -> None:
    assert set(PROFILES) == {"lan", "wifi", "lte", "congested"}
    lte = get_profile("lte")
    assert lte.edge_fog == LinkSpec(5e6, 0.030)
    assert lte.fog_cloud == LinkSpec(100e6, 0.040)
    assert get_profile("congested").edge_fog == LinkSpec(0.5e6, 0.080)
    assert all(p.edge_cpu_quota == 0.25 for p in PROFILES.values())
    assert get_profile("lan").fog_cloud.rtt_s == pytest.approx(0.020)


def test_unknown_profile_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="'5g'.*congested, lan, lte, wifi"):
        get_profile("5g")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"bandwidth_bps": 0.0, "delay_s": 0.01}, "bandwidth_bps"),
        ({"bandwidth_bps": math.nan, "delay_s": 0.01}, "bandwidth_bps"),
        ({"bandwidth_bps": 1e6, "delay_s": -0.001}, "delay_s"),
        ({"bandwidth_bps": 1e6, "delay_s": math.inf}, "delay_s"),
    ],
)
def test_linkspec_rejects_bad_values(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        LinkSpec(**kwargs)


def test_profile_rejects_bad_values() -> None:
    link = LinkSpec(1e6, 0.01)
    with pytest.raises(ValueError, match="edge_cpu_quota"):
        Profile("x", link, link, edge_cpu_quota=0.0)
    with pytest.raises(ValueError, match="name"):
        Profile("", link, link)
    with pytest.raises(ValueError, match="fog_cloud"):
        Profile("x", link, (1e6, 0.01))  # type: ignore[arg-type]


def test_tbf_burst_holds_a_frame_at_low_rates_and_5ms_at_high() -> None:
    low = tbf_params(0.5e6)
    assert low.burst_bytes >= FRAME_BYTES
    assert low.latency_s * low.rate_bps / 8 >= 4 * FRAME_BYTES  # queue holds a few frames
    high = tbf_params(1e9)
    assert high.burst_bytes == pytest.approx(1e9 / 8 * 0.005, rel=0.01)
    assert high.tc_args()[:3] == ["tbf", "rate", "1000000000bit"]


def test_names_fit_interface_limits_and_bad_prefix_is_refused() -> None:
    topo = Topology("abcdefgh")
    assert all(len(dev) <= 15 for link in topo.links for dev in (link.a_dev, link.b_dev))
    with pytest.raises(ValueError, match="prefix"):
        Topology("Bad-Prefix")


def test_endpoints_are_relays_for_fog_and_cloud_and_loopback_for_edge() -> None:
    eps = endpoints_for({"edge": 1, "fog": 2, "cloud": 3})
    assert eps == {"edge": "127.0.0.1:1", "fog": "10.231.1.2:2", "cloud": "10.231.2.2:3"}


def test_cli_rejects_unknown_profile_and_bad_service(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up", "--profile", "5g"]) == 2
    assert main(["up", "--profile", "lte", "--service", "moon=sleep 1"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_root_reason_names_the_missing_privilege(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight.os, "geteuid", lambda: 1000)
    assert preflight.root_reason() == "the testbed needs root (running as uid 1000)"
