"""An independent enumeration of the plans the planner should consider, and a brute-force
choice over them: the planner's answer must equal this, candidate for candidate."""

from __future__ import annotations

import functools
import itertools
import math

from splitvlm.errors import PlanError
from splitvlm.plan.cost import CostModel, Prediction
from splitvlm.plan.plan import TIERS, Link, Plan, Precision, Step, Tier
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import Weights
from splitvlm.plan.request import PlanRequest
from splitvlm.stages import StageGraph
from splitvlm.wire.codecs import Encoding, codec


def _steps(graph: StageGraph, tiers: tuple[Tier, ...], precision: Precision) -> tuple[Step, ...]:
    """Group a per-stage tier assignment into steps; the edge step always comes first."""
    steps = [] if tiers[0] is Tier.EDGE else [Step(Tier.EDGE, 0, 0, precision)]
    for tier, group in itertools.groupby(range(graph.n_stages), key=lambda s: tiers[s]):
        stages = list(group)
        p = precision if tier is Tier.EDGE else Precision.FP32
        steps.append(Step(tier, stages[0], stages[-1] + 1, p))
    return tuple(steps)


def _offered(encoding: Encoding) -> bool:
    """The planner offers a tensor codec only where the registry says it is planned."""
    return not encoding.is_tensor or codec(encoding).planned


@functools.cache
def all_plans(graph: StageGraph) -> set[tuple[tuple[Step, ...], tuple[Encoding, ...]]]:
    """Every (steps, encodings) that validates, per the planner's rules on CACHE_REF and int8."""
    out = set()
    for tiers in itertools.product(TIERS, repeat=graph.n_stages):
        if any(a.order > b.order for a, b in itertools.pairwise(tiers)):
            continue
        for precision in Precision:
            steps = _steps(graph, tiers, precision)
            if precision is Precision.INT8 and steps[0].stop < 2:
                continue
            options = []
            for i in range(len(steps) - 1):
                options.append([e for e in Encoding if _offered(e) and (
                    e is not Encoding.CACHE_REF or (
                        i == 0 and steps[1].tier is Tier.FOG and precision is Precision.FP32))])
            for encodings in itertools.product(*options):
                try:
                    Plan(steps, encodings).validate(graph)
                except PlanError:
                    continue
                out.add((steps, encodings))
    return out


def allowed(plan: Plan, request: PlanRequest, down: set[Link]) -> bool:
    tiers = [s.tier for s in plan.steps]
    crossed = set()
    if len(tiers) > 1:
        crossed.add(Link.EDGE_FOG)
    if Tier.CLOUD in tiers:
        crossed.add(Link.FOG_CLOUD)
    if Policy.OFFLINE in request.policy and len(tiers) > 1:
        return False
    if Policy.PIXELS_STAY_ON_EDGE in request.policy and (
            Encoding.IMAGE in plan.encodings or Encoding.PNG in plan.encodings):
        return False
    if Encoding.CACHE_REF in plan.encodings and not request.cache_hit_at_fog:
        return False
    return not crossed & down


def brute_force(cost: CostModel, plans: list[Plan], request: PlanRequest, weights: Weights,
                down: set[Link]) -> tuple[Prediction, bool] | None:
    """The best allowed prediction (objective within the deadline, else fastest), and whether
    the deadline was met; None when nothing is allowed."""
    preds = [cost.evaluate(p, request, weights) for p in plans if allowed(p, request, down)]
    preds = [p for p in preds if not math.isnan(p.latency_s)]
    if not preds:
        return None
    within = [p for p in preds if p.latency_s <= request.deadline_s]
    if within:
        return min(within, key=lambda p: p.objective), True
    return min(preds, key=lambda p: p.latency_s), False
