"""What the cost model predicted for a plan, as it travels with the plan (`Plan.predicted`).

    forecast.latency_s, forecast.accuracy          totals
    forecast.stage_s(graph.prefill)                one stage's seconds (None: not predicted)
    forecast.link(Link.EDGE_FOG).bytes             one link's bytes and seconds

A compact, typed summary of `splitvlm.plan.cost.Prediction` (which keeps the full breakdown
for the planner's explanation); the wire's `Forecast` message maps onto it field for field.
"""

from __future__ import annotations

from dataclasses import dataclass

from splitvlm.plan.links import Link
from splitvlm.plan.plan import Tier


@dataclass(frozen=True)
class StageForecast:
    tier: Tier
    stage: int  # a stage index; prefill and decode included
    seconds: float


@dataclass(frozen=True)
class WaitForecast:
    tier: Tier
    seconds: float  # queueing for the tier's LM engine


@dataclass(frozen=True)
class LinkForecast:
    link: Link
    seconds: float
    bytes: float


@dataclass(frozen=True)
class Forecast:
    latency_s: float
    energy_j: float  # the edge's: compute and radio
    accuracy: float  # expected, 0..1
    objective: float  # lower is better (see splitvlm.plan.presets)
    edge_compute_s: float = 0.0
    edge_bytes: float = 0.0  # sent by the edge
    overhead_s: float = 0.0  # the edge's per-request overhead
    stages: tuple[StageForecast, ...] = ()
    waits: tuple[WaitForecast, ...] = ()
    links: tuple[LinkForecast, ...] = ()
    p_escalate: float | None = None  # a cascade: P(escalate | question type)
    escalated_latency_s: float | None = None  # a cascade: its latency when it escalates

    def stage_s(self, stage: int) -> float | None:
        """Predicted seconds of stage index `stage` (None: the plan computes none there)."""
        return next((s.seconds for s in self.stages if s.stage == stage), None)

    def link(self, link: Link) -> LinkForecast | None:
        return next((li for li in self.links if li.link is link), None)
