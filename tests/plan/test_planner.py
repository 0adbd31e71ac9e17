"""The planner's choice equals a brute-force search, under every constraint, and is fast."""

from __future__ import annotations

import time

import numpy as np
import pytest

from splitvlm.errors import NoFeasiblePlan
from splitvlm.plan.candidates import CandidateSet
from splitvlm.plan.plan import Link, Plan, Precision, Step, Tier
from splitvlm.plan.planner import Measurement, Transfer
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import Weights, preset
from splitvlm.plan.request import PlanRequest
from splitvlm.stages import StageGraph
from splitvlm.wire.codecs import Encoding

from .oracle import all_plans, brute_force
from .worlds import QUESTIONS, make_planner, random_request, random_world


@pytest.fixture(scope="module")
def oracle_plans(graph: StageGraph) -> list[Plan]:
    return [Plan(steps, encodings) for steps, encodings in sorted(all_plans(graph), key=str)]


@pytest.mark.parametrize("seed", range(6))
def test_choice_equals_brute_force_on_random_worlds(
        seed: int, graph: StageGraph, candidates: CandidateSet, oracle_plans: list[Plan]) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(3):
        world = random_world(graph, rng)
        down = {link for link in Link if rng.random() < 0.15}
        for link in down:
            world.links[link].observe_failure()
        planner = make_planner(world, candidates)
        for _ in range(3):
            request = random_request(rng)
            weights = preset(request.preset or "balanced")
            expected = brute_force(planner.cost, oracle_plans, request, weights, down)
            if expected is None:
                with pytest.raises(NoFeasiblePlan):
                    planner.plan(request)
                continue
            best, met = expected
            decision = planner.plan(request)
            assert decision.deadline_met == met
            assert decision.plan.predicted is not None
            got = (decision.plan.predicted.objective if met
                   else decision.plan.predicted.latency_s)
            want = best.objective if met else best.latency_s
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
            check_constraints(decision.plan, request, down, graph)
            if decision.runner_up is not None:
                check_constraints(decision.runner_up, request, down, graph)


def check_constraints(plan: Plan, request: PlanRequest, down: set[Link],
                      graph: StageGraph) -> None:
    plan.validate(graph)
    tiers = {s.tier for s in plan.steps}
    if Policy.OFFLINE in request.policy:
        assert tiers == {Tier.EDGE}
    if Policy.PIXELS_STAY_ON_EDGE in request.policy:
        assert not {Encoding.IMAGE, Encoding.PNG} & set(plan.encodings)
    if Link.EDGE_FOG in down:
        assert tiers == {Tier.EDGE}
    if Link.FOG_CLOUD in down:
        assert Tier.CLOUD not in tiers
    if not request.cache_hit_at_fog:
        assert Encoding.CACHE_REF not in plan.encodings


def test_deadline_is_met_when_any_plan_meets_it(graph: StageGraph,
                                                candidates: CandidateSet) -> None:
    rng = np.random.default_rng(100)
    for _ in range(30):
        planner = make_planner(random_world(graph, rng, holes=False), candidates)
        loose = planner.plan(PlanRequest(QUESTIONS["caption"], 100_000, preset="most-accurate"))
        fastest = planner.plan(PlanRequest(QUESTIONS["caption"], 100_000, preset="fastest"))
        fast_s = fastest.prediction.latency_s
        assert fast_s <= loose.prediction.latency_s + 1e-12
        deadline = fast_s * 1.01
        tight = planner.plan(PlanRequest(QUESTIONS["caption"], 100_000, deadline_s=deadline,
                                         preset="most-accurate"))
        assert tight.deadline_met and tight.prediction.latency_s <= deadline
        missed = planner.plan(PlanRequest(QUESTIONS["caption"], 100_000,
                                          deadline_s=fast_s * 0.5, preset="most-accurate"))
        assert not missed.deadline_met
        assert missed.prediction.latency_s == pytest.approx(fast_s)


def test_policies_and_unreachable_tiers(graph: StageGraph, candidates: CandidateSet) -> None:
    world = random_world(graph, np.random.default_rng(7), holes=False)
    world.links[Link.EDGE_FOG].observe_transfer(10_000_000, 1e-3)  # a very fast first hop
    planner = make_planner(world, candidates)
    q = QUESTIONS["color"]
    offline = planner.plan(PlanRequest(q, 5_000, policy=frozenset({Policy.OFFLINE})))
    assert [s.tier for s in offline.plan.steps] == [Tier.EDGE]
    for name in ("fastest", "balanced", "most-accurate", "battery"):
        private = planner.plan(PlanRequest(q, 50, preset=name,
                                           policy=frozenset({Policy.PIXELS_STAY_ON_EDGE})))
        assert private.plan.steps[0].stop >= 2
    world.links[Link.FOG_CLOUD].observe_failure()
    assert planner.plan(PlanRequest(q, 5_000)).plan.lm_tier is not Tier.CLOUD
    world.links[Link.EDGE_FOG].observe_failure()
    assert planner.plan(PlanRequest(q, 5_000)).plan.lm_tier is Tier.EDGE
    world.links[Link.FOG_CLOUD].observe_transfer(100, 0.03)  # up again
    world.links[Link.EDGE_FOG].probe(0.01, 100_000, 0.02)
    assert planner.plan(PlanRequest(q, 5_000, preset="most-accurate")).plan.lm_tier is Tier.CLOUD


def test_no_feasible_plan_says_why(graph: StageGraph, candidates: CandidateSet) -> None:
    world = random_world(graph, np.random.default_rng(3), holes=False)
    world.profile = type(world.profile)(graph)  # nothing measured anywhere
    planner = make_planner(world, candidates)
    with pytest.raises(NoFeasiblePlan, match="offline"):
        planner.plan(PlanRequest("describe the image", 1, policy=frozenset({Policy.OFFLINE})))


def test_cache_hit_on_a_slow_link_sends_a_reference(graph: StageGraph,
                                                    candidates: CandidateSet) -> None:
    world = random_world(graph, np.random.default_rng(11), holes=False)
    world.links[Link.EDGE_FOG]._bandwidth.value = 1e5  # 100 kbit/s
    planner = make_planner(world, candidates)
    hit = planner.plan(PlanRequest(QUESTIONS["count"], 80_000, preset="fastest",
                                   cache_hit_at_fog=True))
    assert hit.plan.encodings == (Encoding.CACHE_REF,)
    assert hit.plan.name == "edge[0:8] -cache_ref-> fog"


def test_bandwidth_drop_moves_the_cut(graph: StageGraph, candidates: CandidateSet) -> None:
    world = random_world(graph, np.random.default_rng(5), holes=False)
    link = world.links[Link.EDGE_FOG]
    link._bandwidth.value, link._rtt.value = 1e9, 1e-3
    planner = make_planner(world, candidates)
    request = PlanRequest(QUESTIONS["count"], 2_000_000, preset="fastest",
                          policy=frozenset({Policy.PIXELS_STAY_ON_EDGE}))
    def edge_fog_bytes(plan: Plan) -> float:
        assert plan.predicted is not None
        hop = plan.predicted.link(Link.EDGE_FOG)
        return 0.0 if hop is None else hop.bytes

    before = edge_fog_bytes(planner.plan(request).plan)
    for _ in range(3):  # 10 kbit/s now: 100,000x slower
        link.observe_transfer(1_000_000, 800.0)
    assert edge_fog_bytes(planner.plan(request).plan) < before


def test_decision_explains_itself(graph: StageGraph, candidates: CandidateSet) -> None:
    planner = make_planner(random_world(graph, np.random.default_rng(2), holes=False),
                           candidates)
    decision = planner.plan(PlanRequest(QUESTIONS["relate"], 30_000, deadline_s=1.0))
    text = decision.explain()
    assert decision.plan.name in text and "runner-up" in text and "848 candidates" in text
    assert decision.n_candidates == 848 and decision.qtype == "relate"
    assert decision.runner_up is not None
    assert decision.runner_up.predicted is not None and decision.plan.predicted is not None
    assert decision.runner_up.predicted.objective >= decision.plan.predicted.objective
    assert set(decision.plan.to_dict()["predicted"]) >= {"latency_s", "energy_j", "accuracy"}


def test_record_learns_and_tracks_prediction_error(graph: StageGraph,
                                                   candidates: CandidateSet) -> None:
    world = random_world(graph, np.random.default_rng(9), holes=False)
    planner = make_planner(world, candidates)
    plan = planner.plan(PlanRequest(QUESTIONS["color"], 10_000, preset="fastest")).plan
    assert planner.mape is None
    assert plan.predicted is not None
    pred = plan.predicted.latency_s
    edge = plan.steps[0]
    stage_s = {s: 0.5 for s in range(edge.start, edge.stop) if s < graph.prefill}
    transfers = tuple(Transfer(li.link, int(li.bytes), 0.2) for li in plan.predicted.links)
    error = planner.record(plan, Measurement(latency_s=pred * 2, stage_s=stage_s,
                                             transfers=transfers, decode_tokens=2,
                                             decode_s=0.01, batch=1))
    assert error == pytest.approx(0.5)
    assert planner.mape == pytest.approx(0.5)
    assert planner.metrics()["plan_latency_mape"] == pytest.approx(0.5)
    for s in stage_s:
        seconds = world.profile.stage_s(edge.tier, s, edge.precision)
        assert seconds is not None and seconds > 0
    with pytest.raises(ValueError, match="not part of plan"):
        only_edge = Plan((Step(Tier.EDGE, 0, 10, Precision.FP32),), ())
        planner.record(Plan(only_edge.steps[:1], ()), Measurement(1.0, stage_s={10: 1.0}))


def test_explicit_weights_override_the_preset(graph: StageGraph,
                                              candidates: CandidateSet) -> None:
    planner = make_planner(random_world(graph, np.random.default_rng(4), holes=False),
                           candidates)
    weights = Weights(latency=0.0, energy=1.0, accuracy=0.0)
    decision = planner.plan(PlanRequest("describe the image", 10_000, weights=weights,
                                        preset="fastest"))
    assert decision.weights == weights


def test_decide_time_median(graph: StageGraph, candidates: CandidateSet) -> None:
    rng = np.random.default_rng(0)
    planner = make_planner(random_world(graph, rng, holes=False), candidates)
    requests = [random_request(rng) for _ in range(50)]
    times = []
    for request in requests * 4:
        start = time.perf_counter()
        planner.plan(request)
        times.append(time.perf_counter() - start)
    assert float(np.median(times)) < 5e-3  # coarse guard; the benchmark lives elsewhere


def test_the_edge_overhead_is_learnt_and_priced_into_every_plan(
        graph: StageGraph, candidates: CandidateSet) -> None:
    world = random_world(graph, np.random.default_rng(7), holes=False)
    planner = make_planner(world, candidates)
    request = PlanRequest("describe the image", 10_000, preset="fastest")
    planner.cost.profile.observe_overhead(0.003)
    before = planner.plan(request)
    overhead = planner.cost.profile.overhead_s
    assert before.plan.predicted is not None
    assert before.plan.predicted.overhead_s == overhead > 0
    planner.record(before.plan, Measurement(latency_s=0.5, overhead_s=overhead + 0.001))
    after = planner.plan(request)
    assert planner.cost.profile.overhead_s == pytest.approx(overhead + 0.2 * 0.001)
    assert after.plan == before.plan  # the same for every plan: no ranking changes
    assert after.prediction.latency_s == pytest.approx(before.prediction.latency_s + 0.0002)
