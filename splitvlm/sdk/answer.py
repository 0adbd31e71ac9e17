"""What `ask` returns: the answer, the plan that produced it, and what it cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from splitvlm.plan.plan import Plan
from splitvlm.service.convert import plan_from_pb
from splitvlm.v1 import edge_pb2


@dataclass(frozen=True)
class Timing:
    tier: str
    stage: str
    seconds: float


@dataclass(frozen=True)
class Link:
    link: str
    bytes: int
    seconds: float


@dataclass(frozen=True)
class Answer:
    text: str
    plan: Plan
    timings: list[Timing] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    latency_s: float = 0.0
    image_key: str = ""
    explanation: str = ""
    escalated: bool = False  # a cascade sent it up: `text` is the upstream LM's answer
    edge_confidence: float | None = None  # a cascade: the edge draft's confidence

    @classmethod
    def from_pb(cls, msg: edge_pb2.Answer) -> Answer:
        return cls(
            msg.text, plan_from_pb(msg.plan),
            [Timing(t.tier, t.stage, t.seconds) for t in msg.timings],
            [Link(li.link, li.bytes, li.seconds) for li in msg.links],
            msg.latency_s, msg.image_key, msg.explanation, msg.escalated,
            msg.edge_confidence if msg.HasField("edge_confidence") else None,
        )

    @property
    def bytes_per_link(self) -> dict[str, int]:
        return {li.link: li.bytes for li in self.links}

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["plan"] = self.plan.to_dict()
        return doc

    def report(self) -> str:
        """Human-readable: the answer, where each stage ran, bytes per link, timings."""
        lines = [f"answer: {self.text}", f"plan:   {self.plan.name}   ({self.explanation})"]
        if self.edge_confidence is not None:
            went = ("escalated: the edge's draft was dropped" if self.escalated
                    else "answered on the edge")
            lines.append(f"  cascade: edge confidence {self.edge_confidence:.3f}, {went}")
        for t in self.timings:
            lines.append(f"  {t.tier:5s} {t.stage:28s} {t.seconds * 1e3:8.2f} ms")
        for li in self.links:
            lines.append(f"  link {li.link:10s} {li.bytes:8d} B {li.seconds * 1e3:8.2f} ms")
        predicted = self.plan.predicted.get("latency_s")
        if predicted is not None:
            lines.append(f"  latency {self.latency_s * 1e3:.1f} ms (predicted "
                         f"{predicted * 1e3:.1f} ms)")
        else:
            lines.append(f"  latency {self.latency_s * 1e3:.1f} ms")
        return "\n".join(lines)
