"""Cascades in the planner: the calibration's curve and thresholds, and a price that is the
edge-only plan's plus P(escalate | question type) times the upstream part of the fixed plan."""

from __future__ import annotations

import math

import numpy as np
import pytest

from splitvlm.data.questions import QTYPES
from splitvlm.plan.calibration import Calibration, Row
from splitvlm.plan.candidates import CandidateSet
from splitvlm.plan.plan import Link, Plan, Tier
from splitvlm.plan.planner import Planner
from splitvlm.plan.presets import preset
from splitvlm.plan.request import PlanRequest

from .worlds import QUESTIONS, random_world


def calibration(rng: np.random.Generator, per_type: int = 100) -> Calibration:
    """The edge is right when confident (conf > 0.5 right 97 % of the time), the cloud 99 %."""
    rows = []
    for qtype in QTYPES:
        for _ in range(per_type):
            conf = float(rng.uniform())
            edge = rng.random() < (0.97 if conf > 0.5 else 0.4)
            rows.append(Row(qtype, conf, bool(edge), {Tier.FOG: bool(rng.random() < 0.9),
                                                      Tier.CLOUD: bool(rng.random() < 0.99)}))
    return Calibration(rows)


def test_the_curve_runs_from_edge_alone_to_always_escalating() -> None:
    cal = calibration(np.random.default_rng(0))
    curve = cal.curve(Tier.CLOUD)
    assert curve[0].escalation_rate == 0 and curve[-1].escalation_rate == 1
    assert curve[-1].accuracy == pytest.approx(cal.accuracy(Tier.CLOUD, "unknown", 1.0))
    balanced = cal.threshold("balanced", Tier.CLOUD)
    assert balanced is not None and 0.3 < balanced < 0.8  # unsure edge answers go up
    assert cal.accuracy(Tier.CLOUD, "unknown", balanced) >= curve[-1].accuracy - 0.005
    assert cal.p_escalate(Tier.CLOUD, "unknown", balanced) < 0.8
    assert cal.threshold("fastest", Tier.CLOUD) is None  # never faster than the edge alone
    assert Calibration.from_dict(cal.to_dict()).curve(Tier.CLOUD) == curve
    with pytest.raises(ValueError, match="malformed"):
        Calibration.from_dict({"rows": [{"qtype": "color"}]})


def test_the_curve_is_the_rate_and_accuracy_at_every_threshold() -> None:
    cal = calibration(np.random.default_rng(3), per_type=40)
    for up in (Tier.FOG, Tier.CLOUD):
        for point in cal.curve(up):
            assert point.escalation_rate == pytest.approx(
                cal.p_escalate(up, "unknown", point.threshold), abs=1e-12)
            assert point.accuracy == pytest.approx(
                cal.accuracy(up, "unknown", point.threshold), abs=1e-12)


def test_a_cascade_is_priced_by_the_formula(candidates: CandidateSet) -> None:
    rng = np.random.default_rng(3)
    cal = calibration(rng)
    checked = 0
    for seed in range(40):
        world = random_world(candidates.graph, np.random.default_rng(seed), holes=False)
        planner = Planner(candidates.graph, world.profile, world.links, world.load,
                          world.accuracy, candidates=candidates, calibration=cal)
        request = PlanRequest(QUESTIONS["relate"], 30_000, preset="balanced")
        assert planner._cascades is not None
        weights = preset("balanced")
        for plan, got, worst in planner._cascades.options(
                request, weights, "relate", "balanced", *_vectors(planner, request)):
            up = plan.escalation
            assert up is not None
            edge = planner.cost.evaluate(Plan((plan.steps[0],), (), "edge-only"), request,
                                         weights, "relate")
            fixed = planner.cost.evaluate(plan.escalated(candidates.graph), request, weights,
                                          "relate")
            p = cal.p_escalate(up.tier, "relate", up.threshold)
            up_s = sum(s.total_s for s in fixed.steps[1:]) + sum(h.seconds for h in fixed.links)
            assert got.latency_s == pytest.approx(edge.latency_s + p * up_s)
            assert worst == pytest.approx(edge.latency_s + up_s)
            radio = sum(h.seconds for h in fixed.links if h.link is Link.EDGE_FOG)
            assert got.energy_j == pytest.approx(
                edge.energy_j + p * radio * planner.config.edge_radio_w)
            assert got.accuracy == cal.accuracy(up.tier, "relate", up.threshold)
            assert got.objective == pytest.approx(
                weights.latency * got.latency_s + weights.energy * got.energy_j
                - weights.accuracy * got.accuracy)
            checked += 1
    assert checked >= 40


def test_the_planner_picks_a_cascade_when_it_costs_less(candidates: CandidateSet) -> None:
    picked = 0
    cal = calibration(np.random.default_rng(5))
    for seed in range(30):
        world = random_world(candidates.graph, np.random.default_rng(seed), holes=False)
        planner = Planner(candidates.graph, world.profile, world.links, world.load,
                          world.accuracy, candidates=candidates, calibration=cal)
        plain = Planner(candidates.graph, world.profile, world.links, world.load,
                        world.accuracy, candidates=candidates)
        request = PlanRequest(QUESTIONS["relate"], 30_000, preset="balanced")
        decision, fixed = planner.plan(request), plain.plan(request)
        assert decision.prediction.objective <= fixed.prediction.objective + 1e-12
        if decision.plan.escalation is not None:
            picked += 1
            assert "cascade:" in decision.explain()
            assert decision.plan.predicted is not None
            assert decision.plan.predicted.p_escalate == decision.prediction.p_escalate
        offline = planner.plan(PlanRequest(QUESTIONS["relate"], 30_000,
                                           policy=frozenset({"offline"})))
        assert offline.plan.escalation is None
    assert picked > 0


def _vectors(planner: Planner, request: PlanRequest) -> tuple[np.ndarray, np.ndarray]:
    """The latency of every candidate, and which the request allows (as Planner.plan has)."""
    latency_p, _, _ = planner._pricer.prices(request, request.resolved_qtype())
    latency = latency_p[planner.candidates.gather].sum(axis=0)
    allowed = planner._allowed(request) & ~np.isnan(latency)
    assert not math.isnan(float(latency[allowed].min()))
    return latency, allowed
