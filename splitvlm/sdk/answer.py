"""What `ask` returns: the answer, the plan that produced it, and what it cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from splitvlm.executor.messages import LinkTransfer
from splitvlm.plan.plan import Plan, Tier


@dataclass(frozen=True)
class Timing:
    """Stages [start, stop) ran on `tier` in `seconds`; `name` reads 'vision[2]..decode'."""

    tier: Tier
    start: int
    stop: int
    seconds: float
    name: str

    @property
    def stages(self) -> range:
        return range(self.start, self.stop)


@dataclass(frozen=True)
class Answer:
    text: str
    plan: Plan  # the plan that ran, with the planner's forecast (`plan.predicted`)
    timings: list[Timing] = field(default_factory=list)
    links: list[LinkTransfer] = field(default_factory=list)  # bytes and seconds per link
    latency_s: float = 0.0  # measured at the edge
    image_key: str = ""  # pass as image_key (or use a Session) to ask about it again
    explanation: str = ""  # why this plan: the planner's reasoning and runner-up
    escalated: bool = False  # a cascade sent it up: `text` is the upstream LM's answer
    edge_confidence: float | None = None  # a cascade: the edge draft's confidence
    request_id: str = ""  # every tier logged this request under it
    fallback: str = ""  # set: the plan's upstream failed before its first token and the edge's
    # LM answered instead (why); the plan is the one chosen, the text the edge's
    degraded: bool = False  # the edge's LM answered because no upstream tier was reachable
    # (a fallback, or a plan placed around an unreachable fog): less accurate than it may be

    @property
    def bytes_per_link(self) -> dict[str, int]:
        return {li.link.value: li.bytes for li in self.links}

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["plan"] = self.plan.to_dict()
        return doc

    def report(self) -> str:
        """Human-readable: the answer, where each stage ran, bytes per link, timings."""
        lines = [f"answer: {self.text}", f"plan:   {self.plan.name}   ({self.explanation})"]
        if self.fallback:
            lines.append(f"  fallback: the edge's LM answered ({self.fallback})")
        if self.degraded:
            lines.append("  degraded: no fog or cloud was reachable; the edge's LM answered")
        if self.edge_confidence is not None:
            went = ("escalated: the edge's draft was dropped" if self.escalated
                    else "answered on the edge")
            lines.append(f"  cascade: edge confidence {self.edge_confidence:.3f}, {went}")
        for t in self.timings:
            lines.append(f"  {t.tier:5s} {t.name:28s} {t.seconds * 1e3:8.2f} ms")
        for li in self.links:
            lines.append(f"  link {li.link:10s} {li.bytes:8d} B {li.seconds * 1e3:8.2f} ms")
        if self.plan.predicted is not None:
            lines.append(f"  latency {self.latency_s * 1e3:.1f} ms (predicted "
                         f"{self.plan.predicted.latency_s * 1e3:.1f} ms)")
        else:
            lines.append(f"  latency {self.latency_s * 1e3:.1f} ms")
        return "\n".join(lines)
