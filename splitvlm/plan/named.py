"""Named fixed plans, for comparison with the planner and for pinning a placement.

    edge-only              the edge runs everything (INT8 vision, tiny LM)
    edge-vision+fog-lm     edge vision -> fp16 visual tokens -> fog mid LM
    edge-vision+cloud-lm   edge vision -> fp16 visual tokens -> (fog relays) -> cloud large LM
    fog-all                edge downscales -> PNG at model resolution -> fog does the rest
    cloud-all              the original image -> (fog relays) -> cloud does everything
    split-K                the edge runs patch_embed and the first K vision blocks, fp16 tokens
                           go to the cloud, which runs the rest and its large LM
"""

from __future__ import annotations

import re

from splitvlm.plan.plan import Encoding, Plan, PlanError, Precision, Step, Tier
from splitvlm.stages import StageGraph

FIXED = ("edge-only", "edge-vision+fog-lm", "edge-vision+cloud-lm", "fog-all", "cloud-all")
SPLIT = re.compile(r"split-(\d+)$")


def plan_names(graph: StageGraph) -> list[str]:
    return list(FIXED) + [f"split-{k}" for k in range(graph.depth + 1)]


def named_plan(name: str, graph: StageGraph, edge_precision: Precision = Precision.INT8) -> Plan:
    """The fixed plan called `name`; PlanError listing the names for an unknown one."""
    n, lm = graph.n_stages, graph.prefill
    if name == "edge-only":
        return Plan((Step(Tier.EDGE, 0, n, edge_precision),), (), name)
    if name in ("edge-vision+fog-lm", "edge-vision+cloud-lm"):
        tier = Tier.FOG if name.endswith("fog-lm") else Tier.CLOUD
        steps = (Step(Tier.EDGE, 0, lm, edge_precision), Step(tier, lm, n))
        return Plan(steps, (Encoding.FP16,), name)
    if name == "fog-all":
        return Plan((Step(Tier.EDGE, 0, 1), Step(Tier.FOG, 1, n)), (Encoding.PNG,), name)
    if name == "cloud-all":
        return Plan((Step(Tier.EDGE, 0, 0), Step(Tier.CLOUD, 0, n)), (Encoding.IMAGE,), name)
    match = SPLIT.match(name)
    if match and int(match.group(1)) <= graph.depth:
        cut = 2 + int(match.group(1))  # after patch_embed and K blocks
        steps = (Step(Tier.EDGE, 0, cut, edge_precision), Step(Tier.CLOUD, cut, n))
        return Plan(steps, (Encoding.FP16,), name)
    raise PlanError(f"unknown plan {name!r}; named plans are {plan_names(graph)} or 'auto'")


def with_cache_ref(plan: Plan, graph: StageGraph) -> Plan:
    """The same placement, sending only the image's key where the fog receives visual tokens."""
    encodings = list(plan.encodings)
    for i, encoding in enumerate(encodings):
        if (encoding.is_tensor and plan.cut(i) == graph.prefill
                and plan.steps[i + 1].tier is Tier.FOG):
            encodings[i] = Encoding.CACHE_REF
            return Plan(plan.steps, tuple(encodings), plan.name + "+cache", plan.predicted)
    return plan


def without_cache_ref(plan: Plan) -> Plan:
    encodings = tuple(Encoding.FP16 if e is Encoding.CACHE_REF else e for e in plan.encodings)
    return Plan(plan.steps, encodings, plan.name.removesuffix("+cache"), plan.predicted)
