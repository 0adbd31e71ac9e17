from __future__ import annotations

import pytest

from splitvlm.plan.load import LoadTracker
from splitvlm.plan.measured import ProfileReport
from splitvlm.plan.plan import Precision, Tier
from splitvlm.plan.profiles import ComputeProfile
from splitvlm.stages import StageGraph

DOC = {
    "stages": {
        "edge": {"fp32": {"preprocess": 0.001, "vision[0]": 0.01, "prefill": 0.05},
                 "int8": {"vision[0]": 0.004}},
        "cloud": {"fp32": {"vision[0]": 0.001, "prefill": 0.002}},
    },
    "decode": {"cloud": {"1": 0.002, "9": 0.006}, "edge": {"1": 0.02}},
}


def test_from_dict_lookups_and_fallbacks(graph: StageGraph) -> None:
    profile = ComputeProfile.from_dict(graph, DOC)
    v0 = graph.index("vision[0]")
    assert profile.stage_s(Tier.EDGE, v0, Precision.INT8) == 0.004
    assert profile.stage_s(Tier.EDGE, 0, Precision.INT8) == 0.001  # no int8 entry: fp32
    assert profile.stage_s(Tier.FOG, v0) is None  # never measured: cannot run there
    assert profile.prefill_s(Tier.CLOUD) == 0.002 and profile.prefill_s(Tier.FOG) is None
    report = profile.to_report()
    assert ComputeProfile.from_report(graph, report).to_report() == report
    assert ProfileReport.from_dict(graph, report.to_dict(graph)) == report
    with pytest.raises(ValueError, match="malformed"):
        ComputeProfile.from_dict(graph, {"stages": {"edge": {"fp32": {"nope": 1.0}}}})


def test_decode_per_token_interpolates_over_batch(graph: StageGraph) -> None:
    profile = ComputeProfile.from_dict(graph, DOC)
    assert profile.decode_s(Tier.CLOUD, 1) == 0.002
    assert profile.decode_s(Tier.CLOUD, 5) == pytest.approx(0.004)
    assert profile.decode_s(Tier.CLOUD, 17) == pytest.approx(0.010)  # extrapolated
    assert profile.decode_s(Tier.EDGE, 4) == 0.02  # one point: flat
    assert profile.decode_s(Tier.FOG, 1) is None
    profile.observe_decode(Tier.FOG, 2, 0.003)
    assert profile.decode_s(Tier.FOG, 1) == 0.003


def test_observe_updates_by_ewma_and_counts_versions(graph: StageGraph) -> None:
    profile = ComputeProfile.from_dict(graph, DOC, alpha=0.5)
    version = profile.version
    v0 = graph.index("vision[0]")
    profile.observe(Tier.EDGE, v0, Precision.FP32, 0.012)
    assert profile.stage_s(Tier.EDGE, v0) == pytest.approx(0.011)
    for _ in range(3):  # the edge became 5x slower
        profile.observe(Tier.EDGE, v0, Precision.FP32, 0.055)
    assert profile.stage_s(Tier.EDGE, v0) == pytest.approx(0.055)
    assert profile.version == version + 4
    with pytest.raises(ValueError, match="int8 vision runs only on the edge"):
        profile.observe(Tier.CLOUD, v0, Precision.INT8, 0.001)
    with pytest.raises(ValueError, match="stage=10"):
        profile.observe(Tier.CLOUD, 10, Precision.FP32, 0.001)


def test_load_wait_and_batch() -> None:
    load = LoadTracker(slots={Tier.CLOUD: 8}, service_s={Tier.CLOUD: 0.2, Tier.EDGE: 0.1})
    assert load.wait_s(Tier.CLOUD) == 0 and load.batch(Tier.CLOUD) == 1
    load.report(Tier.CLOUD, queue_depth=0, active=3)
    assert load.wait_s(Tier.CLOUD) == 0 and load.batch(Tier.CLOUD) == 4
    load.report(Tier.CLOUD, queue_depth=4, active=8)
    assert load.wait_s(Tier.CLOUD) == pytest.approx(5 / 8 * 0.2) and load.batch(Tier.CLOUD) == 8
    load.report(Tier.EDGE, queue_depth=0, active=1)  # one slot, busy
    assert load.wait_s(Tier.EDGE) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="slots=0"):
        load.report(Tier.FOG, 0, 0, slots=0)
