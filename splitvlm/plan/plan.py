"""A plan: which tier runs which contiguous range of stages, and how each hand-off is encoded.

    Plan(steps=(Step(EDGE, 0, 4, INT8), Step(CLOUD, 4, 10)), encodings=(Encoding.INT8,))

reads "the edge runs stages 0..3 (its INT8 ONNX vision), sends the boundary tensor at cut 4 as
int8, the fog relays it untouched, the cloud runs the rest and streams tokens back". The first
step is always the edge (possibly empty: it then sends the image itself); tiers strictly follow
edge -> fog -> cloud; a tier skipped in between relays the payload. The last step runs the LM.

A plan with an `Escalation` is a cascade: the edge runs everything, and when its LM's answer is
less confident than the threshold, the visual tokens it computed go up (in the escalation's
encoding) to the fog's or the cloud's LM, whose answer the caller gets: `escalated()` is
that upstream plan. The edge's draft is never streamed.

Here too: the vocabulary every layer above uses (Tier, Precision, Link), and `Forecast`, what
the cost model predicted for a plan, which travels with it (`Plan.predicted`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from splitvlm.errors import PlanError
from splitvlm.stages import BoundaryKind, StageGraph
from splitvlm.wire.codecs import Encoding


class Tier(StrEnum):
    EDGE = "edge"
    FOG = "fog"
    CLOUD = "cloud"

    @property
    def order(self) -> int:
        return TIERS.index(self)


TIERS = (Tier.EDGE, Tier.FOG, Tier.CLOUD)


class Precision(StrEnum):
    FP32 = "fp32"
    INT8 = "int8"  # the edge's dynamically quantized ONNX vision


class Link(StrEnum):
    EDGE_FOG = "edge-fog"
    FOG_CLOUD = "fog-cloud"


LINKS = (Link.EDGE_FOG, Link.FOG_CLOUD)


def outgoing(sender: Tier) -> Link:
    """The link from `sender` to the next tier."""
    if sender.order >= len(LINKS):
        raise ValueError(f"the {sender} tier has no next tier")
    return LINKS[sender.order]


def crossed(sender: Tier, receiver: Tier) -> tuple[Link, ...]:
    """The links a hand-off from `sender` to `receiver` crosses (a relay crosses both)."""
    return LINKS[sender.order:receiver.order]


# What the cost model predicted for a plan, as it travels with the plan (`Plan.predicted`): a
# compact, typed summary of splitvlm.plan.cost.Prediction; the wire's Forecast maps onto it.


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


@dataclass(frozen=True)
class Step:
    tier: Tier
    start: int  # first stage index
    stop: int  # one past the last stage index
    precision: Precision = Precision.FP32


def escalates(confidence: Any, threshold: float) -> Any:
    """Whether an edge answer of `confidence` (a float or an array of them) goes up: below the
    threshold, and always at threshold 1. The executor and the calibration both ask this."""
    return (confidence < threshold) | (threshold >= 1.0)


@dataclass(frozen=True)
class Escalation:
    """When an edge-only plan's answer goes up instead: a cascade (see the module docstring)."""

    tier: Tier  # fog or cloud: whose LM answers an escalated request
    encoding: Encoding  # how the visual tokens travel up (a tensor encoding)
    threshold: float  # edge answers with confidence below this escalate (0: never, 1: always)

    def validate(self) -> None:
        if self.tier is Tier.EDGE:
            raise PlanError("a cascade escalates to the fog or the cloud, not the edge")
        if not self.encoding.is_tensor:
            raise PlanError(f"a cascade sends visual tokens as a tensor, not {self.encoding}")
        if not 0.0 <= self.threshold <= 1.0:
            raise PlanError(f"cascade threshold={self.threshold!r}; expected 0..1")


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    encodings: tuple[Encoding, ...]  # one per hand-off: encodings[i] sits between steps i, i+1
    name: str = ""
    predicted: Forecast | None = field(default=None, compare=False, hash=False)
    escalation: Escalation | None = None  # a cascade: the edge answers first

    @property
    def lm_tier(self) -> Tier:
        return self.steps[-1].tier

    def cut(self, handoff: int) -> int:
        return self.steps[handoff].stop

    def step_for(self, tier: Tier) -> Step | None:
        return next((s for s in self.steps if s.tier is tier), None)

    def validate(self, graph: StageGraph) -> None:
        """Raise PlanError unless the plan covers every stage once, in tier order."""
        if not self.steps or self.steps[0].tier is not Tier.EDGE:
            raise PlanError("a plan starts with an edge step (which may be empty)")
        if len(self.encodings) != len(self.steps) - 1:
            raise PlanError(
                f"{len(self.steps)} steps need {len(self.steps) - 1} encodings, "
                f"got {len(self.encodings)}"
            )
        position = 0
        for i, step in enumerate(self.steps):
            if step.start != position or step.stop < step.start:
                raise PlanError(f"step {i} ({step.tier}) covers {step.start}..{step.stop}; "
                                f"expected to start at stage {position}")
            if i and step.tier.order <= self.steps[i - 1].tier.order:
                raise PlanError(f"step {i}: tier {step.tier} does not follow "
                                f"{self.steps[i - 1].tier}")
            if step.precision is Precision.INT8 and step.tier is not Tier.EDGE:
                raise PlanError(f"step {i}: int8 vision runs only on the edge")
            if i and step.start >= step.stop:
                raise PlanError(f"step {i} ({step.tier}) is empty; only the edge step may be")
            position = step.stop
        if position != graph.n_stages:
            raise PlanError(f"plan ends at stage {position}; the graph has {graph.n_stages}")
        if self.steps[-1].start > graph.prefill:
            raise PlanError("prefill and decode must run on the same tier")
        for i, encoding in enumerate(self.encodings):
            self._check_encoding(graph, self.cut(i), encoding)
        if self.escalation is not None:
            if len(self.steps) != 1:
                raise PlanError("a cascade's plan runs everything on the edge first")
            self.escalation.validate()

    def escalated(self, graph: StageGraph) -> Plan:
        """A cascade's upstream plan: the edge's vision (as it ran), its visual tokens sent
        in the escalation's encoding to the escalation tier's LM."""
        if self.escalation is None:
            raise PlanError(f"plan {self.name!r} is not a cascade")
        edge, up = self.steps[0], self.escalation
        return Plan((Step(Tier.EDGE, 0, graph.prefill, edge.precision),
                     Step(up.tier, graph.prefill, graph.n_stages)), (up.encoding,),
                    f"{self.name}:escalated")

    @staticmethod
    def _check_encoding(graph: StageGraph, cut: int, encoding: Encoding) -> None:
        boundary = graph.boundary(cut)
        ok = {
            BoundaryKind.IMAGE: encoding is Encoding.IMAGE,
            BoundaryKind.PIXELS: encoding is Encoding.PNG,
            BoundaryKind.VISUAL: encoding.is_tensor or encoding is Encoding.CACHE_REF,
        }.get(boundary.kind, encoding.is_tensor)
        if not ok:
            raise PlanError(f"encoding {encoding} cannot carry the {boundary.name} at cut {cut}")

    def describe(self, graph: StageGraph) -> str:
        """One line: 'edge[preprocess..vision[1]] -int8-> cloud[vision[2]..decode]'."""
        parts = []
        for i, step in enumerate(self.steps):
            parts.append(f"{step.tier}[{graph.describe(step.start, step.stop)}]")
            if i < len(self.encodings):
                parts.append(f"-{self.encodings[i]}->")
        if self.escalation is not None:
            up = self.escalation
            parts.append(f"(below confidence {up.threshold:.3g}: -{up.encoding}-> "
                         f"{up.tier}[{graph.describe(graph.prefill, graph.n_stages)}])")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """For JSON: enums as their values, the forecast's fields as they are."""
        doc: dict[str, Any] = {
            "name": self.name,
            "steps": [{"tier": s.tier.value, "start": s.start, "stop": s.stop,
                       "precision": s.precision.value} for s in self.steps],
            "encodings": [e.value for e in self.encodings],
            "predicted": None if self.predicted is None else asdict(self.predicted),
        }
        if self.escalation is not None:
            doc["escalation"] = {"tier": self.escalation.tier.value,
                                 "encoding": self.escalation.encoding.value,
                                 "threshold": self.escalation.threshold}
        return doc
