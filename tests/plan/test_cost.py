"""The scalar cost model against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

from splitvlm.plan.accuracy import AccuracyTable
from splitvlm.plan.cost import CostModel, payload_bytes
from splitvlm.plan.links import LinkSet
from splitvlm.plan.load import LoadTracker
from splitvlm.plan.plan import Link, Plan, Precision, Step, Tier
from splitvlm.plan.presets import PlannerConfig, Weights
from splitvlm.plan.profiles import ComputeProfile
from splitvlm.plan.request import PlanRequest
from splitvlm.stages import StageGraph
from splitvlm.wire.codecs import Encoding

Q = "how many circles are there ?"  # 28 bytes; count: 2 answer tokens


def model(graph: StageGraph) -> CostModel:
    """Every stage takes 1 ms on the edge (0.5 ms int8 for vision), 0.1 ms elsewhere."""
    stage_s = {}
    for s in range(graph.prefill + 1):
        stage_s[(Tier.EDGE, s, Precision.FP32)] = 1e-3
        stage_s[(Tier.FOG, s, Precision.FP32)] = 1e-4
        stage_s[(Tier.CLOUD, s, Precision.FP32)] = 1e-4
    for s in range(2, 6):
        stage_s[(Tier.EDGE, s, Precision.INT8)] = 5e-4
    profile = ComputeProfile(graph, stage_s, {Tier.EDGE: {1: 0.01}, Tier.FOG: {1: 0.004},
                                              Tier.CLOUD: {1: 0.002, 9: 0.004}})
    links = LinkSet.of((8e6, 0.01), (80e6, 0.02))  # 1 MB/s + 10 ms; 10 MB/s + 20 ms
    load = LoadTracker(slots={Tier.CLOUD: 16}, service_s={Tier.CLOUD: 0.1})
    load.report(Tier.CLOUD, queue_depth=8, active=4)  # wait 8/16 * 0.1 s; batch 5
    accuracy = AccuracyTable.from_dict({"cloud": {"fp32": {"count": 0.9}, "int8": {"count": 0.8}},
                                        "edge": {"fp32": {"count": 0.5}}})
    return CostModel(graph, profile, links, load, accuracy, PlannerConfig())


def test_edge_int8_relayed_to_cloud(graph: StageGraph) -> None:
    plan = Plan((Step(Tier.EDGE, 0, 6, Precision.INT8), Step(Tier.CLOUD, 6, 10)),
                (Encoding.INT8,))
    request = PlanRequest(Q, image_bytes=50_000)
    pred = model(graph).evaluate(plan, request, Weights(1.0, 2.0, 3.0))
    edge_s = 2 * 1e-3 + 4 * 5e-4  # preprocess, patch_embed fp32 (no int8 entry); vision int8
    payload = 64 * 128 + 4 * 64 + 28  # tokens (64, 128) int8, a scale per token, the question
    assert pred.links[0].payload_bytes == pred.links[1].payload_bytes == payload
    hops = (0.01 + 8 * payload / 8e6) + (0.02 + 8 * payload / 80e6)  # a relay crosses both
    per_token = 0.002 + (5 - 1) / (9 - 1) * (0.004 - 0.002)  # batch 5, interpolated
    cloud_s = 2 * 1e-4 + 1e-4 + 2 * per_token + 0.05  # project.down/up, prefill, decode, wait
    assert pred.latency_s == pytest.approx(edge_s + hops + cloud_s, rel=1e-12)
    assert pred.edge_compute_s == pytest.approx(edge_s)
    airtime = 0.01 + 8 * payload / 8e6  # the edge's radio is busy for the edge-fog hop only
    assert pred.energy_j == pytest.approx(edge_s * 5.0 + airtime * 1.0)
    assert pred.accuracy == 0.8
    assert pred.objective == pytest.approx(pred.latency_s + 2 * pred.energy_j - 3 * 0.8)
    f = pred.forecast(graph)
    edge_fog, fog_cloud = f.link(Link.EDGE_FOG), f.link(Link.FOG_CLOUD)
    assert edge_fog is not None and fog_cloud is not None
    assert edge_fog.bytes == fog_cloud.bytes == payload
    assert f.stage_s(graph.index("vision[0]")) == 5e-4
    assert [w.seconds for w in f.waits if w.tier is Tier.CLOUD] == [pytest.approx(0.05)]
    assert f.stage_s(graph.decode) == pytest.approx(2 * per_token)


def test_cache_ref_skips_the_edge_and_sends_a_hash(graph: StageGraph) -> None:
    plan = Plan((Step(Tier.EDGE, 0, 8), Step(Tier.FOG, 8, 10)), (Encoding.CACHE_REF,))
    pred = model(graph).evaluate(plan, PlanRequest(Q, image_bytes=50_000), Weights())
    assert pred.edge_compute_s == 0 and pred.steps[0].cached
    assert pred.edge_bytes == 64 + 28
    assert pred.latency_s == pytest.approx(0.01 + 8 * 92 / 8e6 + 1e-4 + 2 * 0.004)


def test_edge_only_and_pixel_payloads(graph: StageGraph) -> None:
    cost = model(graph)
    only = Plan((Step(Tier.EDGE, 0, 10),), ())
    pred = cost.evaluate(only, PlanRequest(Q, image_bytes=1), Weights())
    assert pred.latency_s == pytest.approx(9 * 1e-3 + 2 * 0.01)
    assert pred.energy_j == pytest.approx(pred.latency_s * 5.0) and not pred.links
    assert pred.accuracy == 0.5
    config = PlannerConfig()
    request = PlanRequest(Q, image_bytes=1234)
    assert payload_bytes(graph, 0, Encoding.IMAGE, request, config) == 1234 + 28
    assert payload_bytes(graph, 1, Encoding.PNG, request, config) == 64 * 64 * 3 + 28
    png = PlanRequest(Q, image_bytes=1234, png_bytes=999)
    assert payload_bytes(graph, 1, Encoding.PNG, png, config) == 999 + 28
    lz4 = payload_bytes(graph, 8, Encoding.INT8_LZ4, request, config)
    assert lz4 == pytest.approx((9 * 128 + 36) * 0.9 + 28)


def test_a_stage_the_profile_lacks_makes_the_plan_infeasible(graph: StageGraph) -> None:
    cost = model(graph)
    plan = Plan((Step(Tier.EDGE, 0, 2), Step(Tier.FOG, 2, 10)), (Encoding.FP16,))
    request = PlanRequest(Q, image_bytes=100)
    assert cost.evaluate(plan, request, Weights()).feasible
    cost.profile = ComputeProfile(graph)  # nothing measured
    assert math.isnan(cost.evaluate(plan, request, Weights()).latency_s)
    assert Link.EDGE_FOG in {h.link for h in cost.evaluate(plan, request, Weights()).links}
