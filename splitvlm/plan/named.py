"""Named fixed plans, for comparison with the planner and for pinning a placement.

    edge-only              the edge runs everything (INT8 vision, tiny LM)
    edge-vision+fog-lm     edge vision -> fp16 visual tokens -> fog mid LM
    edge-vision+cloud-lm   edge vision -> fp16 visual tokens -> (fog relays) -> cloud large LM
    fog-all                edge downscales -> PNG at model resolution -> fog does the rest
    cloud-all              the original image -> (fog relays) -> cloud does everything
    split-K                the edge runs patch_embed and the first K vision blocks, fp16 tokens
                           go to the cloud, which runs the rest and its large LM
    cut-C@fog, cut-C@cloud the edge runs the stages before cut C (0: none, 1: preprocess, ...,
    cut-C@fog:ENCODING     the last: every visual stage), the fog's (cloud's) LM tier the rest;
                           the boundary travels as ENCODING (default: the image at 0, PNG
                           pixels at 1, fp16 tensors after): any cut, pinned, for comparisons
    cascade-fog            edge-only; an answer less confident than the threshold escalates:
    cascade-cloud          its fp16 visual tokens go to the fog's (cloud's) LM instead
    cascade-fog@T          ... with threshold T in 0..1 (1: always escalate, 0: never);
                           without @T, the calibrated threshold of the request's preset
"""

from __future__ import annotations

import re

from splitvlm.errors import PlanError
from splitvlm.plan.plan import Escalation, Plan, Precision, Step, Tier
from splitvlm.stages import StageGraph
from splitvlm.wire.codecs import Encoding

FIXED = ("edge-only", "edge-vision+fog-lm", "edge-vision+cloud-lm", "fog-all", "cloud-all")
SPLIT = re.compile(r"split-(\d+)$")
CUT = re.compile(r"cut-(\d+)@(fog|cloud)(?::([a-z0-9_]+))?$")
CASCADE = re.compile(r"cascade-(fog|cloud)(?:@([0-9.]+))?$")
CASCADES = ("cascade-fog", "cascade-cloud")
UNCALIBRATED_THRESHOLD = 0.9  # a named cascade's threshold before any calibration


def plan_names(graph: StageGraph) -> list[str]:
    """The fixed placements (cascades, whose placement depends on the answer, apart)."""
    return list(FIXED) + [f"split-{k}" for k in range(graph.depth + 1)]


def cascade(tier: Tier, threshold: float, edge_precision: Precision, graph: StageGraph,
            encoding: Encoding = Encoding.FP16, name: str = "") -> Plan:
    """Edge-only, escalating to `tier`'s LM below `threshold` confidence."""
    plan = Plan((Step(Tier.EDGE, 0, graph.n_stages, edge_precision),), (),
                name or f"cascade-{tier}", escalation=Escalation(tier, encoding, threshold))
    plan.validate(graph)
    return plan


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
        px = graph.patch_embed  # the cut where the pixels are
        return Plan((Step(Tier.EDGE, 0, px), Step(Tier.FOG, px, n)), (Encoding.PNG,), name)
    if name == "cloud-all":
        return Plan((Step(Tier.EDGE, 0, 0), Step(Tier.CLOUD, 0, n)), (Encoding.IMAGE,), name)
    match = CASCADE.match(name)
    if match:
        threshold = UNCALIBRATED_THRESHOLD if match.group(2) is None else float(match.group(2))
        return cascade(Tier(match.group(1)), threshold, edge_precision, graph, name=name)
    match = CUT.match(name)
    if match:
        return _cut_plan(name, int(match.group(1)), Tier(match.group(2)), match.group(3),
                         graph, edge_precision)
    match = SPLIT.match(name)
    if match and int(match.group(1)) <= graph.depth:
        cut = graph.block_cut(int(match.group(1)))  # after patch_embed and K blocks
        steps = (Step(Tier.EDGE, 0, cut, edge_precision), Step(Tier.CLOUD, cut, n))
        return Plan(steps, (Encoding.FP16,), name)
    raise PlanError(f"unknown plan {name!r}; named plans are {plan_names(graph)}, "
                    f"{list(CASCADES)} (optionally @threshold), cut-C@fog|cloud[:encoding] "
                    "(C = 0..the visual tokens' cut), 'auto' or 'auto:fixed' (no cascades)")


def _cut_plan(name: str, cut: int, tier: Tier, encoding: str | None, graph: StageGraph,
              edge_precision: Precision) -> Plan:
    if cut not in graph.cuts:
        raise PlanError(f"{name}: cut {cut} out of range; cuts are 0..{graph.prefill}")
    default = (Encoding.IMAGE if cut == 0 else Encoding.PNG if cut == graph.patch_embed
               else Encoding.FP16)
    try:
        chosen = default if encoding is None else Encoding(encoding)
    except ValueError as exc:
        raise PlanError(f"{name}: unknown encoding {encoding!r}; encodings are "
                        f"{[e.value for e in Encoding]}") from exc
    plan = Plan((Step(Tier.EDGE, 0, cut, edge_precision), Step(tier, cut, graph.n_stages)),
                (chosen,), name)
    plan.validate(graph)  # PlanError: an encoding this boundary cannot travel as
    return plan


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
