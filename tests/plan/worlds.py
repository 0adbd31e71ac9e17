"""Random synthetic worlds (profiles, links, load, accuracy) and requests for planner tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from splitvlm.data.questions import QTYPES
from splitvlm.plan.accuracy import AccuracyTable
from splitvlm.plan.candidates import CandidateSet
from splitvlm.plan.links import LinkSet
from splitvlm.plan.load import LoadTracker
from splitvlm.plan.plan import TIERS, Link, Precision, Tier
from splitvlm.plan.planner import Planner
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import PRESETS
from splitvlm.plan.profiles import ComputeProfile
from splitvlm.plan.request import PlanRequest
from splitvlm.stages import StageGraph

GRAPH = StageGraph(image_size=64, n_tokens=64, vision_dim=128, depth=4, n_visual=9,
                   code_dim=32, visual_dim=128)

QUESTIONS = {
    "color": "what color is the circle ?",
    "shape": "what shape is the red object ?",
    "where": "where is the blue square ?",
    "size": "what size is the green triangle ?",
    "count": "how many circles are there ?",
    "exist": "is there a purple square ?",
    "caption": "describe the image",
    "relate": "what is left of the yellow circle ?",
    "compare": "are there more circles than squares ?",
    "unknown": "why is the sky blue ?",
}


@dataclass
class World:
    profile: ComputeProfile
    links: LinkSet
    load: LoadTracker
    accuracy: AccuracyTable


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def random_profile(graph: StageGraph, rng: np.random.Generator, holes: bool) -> ComputeProfile:
    """Per-tier stage seconds (edge slowest), int8 edge vision, decode tables; maybe holes."""
    speed = {Tier.EDGE: log_uniform(rng, 2, 20), Tier.FOG: log_uniform(rng, 1, 4), Tier.CLOUD: 1}
    stage_s: dict[tuple[Tier, int, Precision], float] = {}
    decode_s: dict[Tier, dict[int, float]] = {}
    for tier in TIERS:
        no_lm = holes and tier is Tier.FOG and rng.random() < 0.25
        for stage in range(graph.prefill + (0 if no_lm else 1)):
            stage_s[(tier, stage, Precision.FP32)] = log_uniform(rng, 1e-4, 2e-2) * speed[tier]
            if tier is Tier.EDGE and 1 <= stage < graph.prefill and rng.random() < 0.9:
                stage_s[(tier, stage, Precision.INT8)] = (
                    stage_s[(tier, stage, Precision.FP32)] * rng.uniform(0.2, 1.0))
        if not no_lm:
            one = log_uniform(rng, 5e-4, 5e-3) * speed[tier]
            decode_s[tier] = {1: one, 8: one * rng.uniform(1.0, 3.0)}
    profile = ComputeProfile(graph, stage_s, decode_s)
    if rng.random() < 0.7:
        profile.observe_overhead(log_uniform(rng, 1e-4, 1e-2))
    return profile


def random_world(graph: StageGraph, rng: np.random.Generator, holes: bool = True) -> World:
    links = LinkSet.of((log_uniform(rng, 1e5, 1e9), log_uniform(rng, 1e-4, 0.05)),
                       (log_uniform(rng, 1e6, 1e10), log_uniform(rng, 1e-3, 0.1)))
    for link in Link:  # a small real hand-off teaches the hop's overhead, on some links
        if rng.random() < 0.7:
            est = links[link]
            est.observe_transfer(1, est.rtt_s + log_uniform(rng, 1e-4, 1e-2))
    load = LoadTracker(slots={Tier.FOG: int(rng.integers(1, 4)),
                              Tier.CLOUD: int(rng.integers(1, 32))},
                       service_s={tier: log_uniform(rng, 1e-3, 0.3) for tier in TIERS})
    for tier in TIERS:
        load.report(tier, int(rng.integers(0, 4)), int(rng.integers(0, 6)))
    base = {Tier.EDGE: 0.6, Tier.FOG: 0.75, Tier.CLOUD: 0.85}
    accuracy = AccuracyTable({
        tier: {precision: {q: min(1.0, base[tier] + rng.uniform(0, 0.15)) for q in QTYPES}
               for precision in Precision}
        for tier in TIERS
    })
    return World(random_profile(graph, rng, holes), links, load, accuracy)


def random_request(rng: np.random.Generator) -> PlanRequest:
    qtype = list(QUESTIONS)[int(rng.integers(len(QUESTIONS)))]
    policies = [p for p in Policy if rng.random() < 0.2]
    return PlanRequest(
        QUESTIONS[qtype], int(log_uniform(rng, 2e3, 2e6)),
        png_bytes=None if rng.random() < 0.3 else int(log_uniform(rng, 500, 12_288)),
        deadline_s=float("inf") if rng.random() < 0.3 else log_uniform(rng, 1e-3, 2.0),
        policy=frozenset(policies), preset=list(PRESETS)[int(rng.integers(len(PRESETS)))],
        cache_hit_at_fog=bool(rng.random() < 0.3),
    )


def make_planner(world: World, candidates: CandidateSet) -> Planner:
    return Planner(candidates.graph, world.profile, world.links, world.load, world.accuracy,
                   candidates=candidates)
