"""Cascade calibration: how confident the edge LM is, and how often that confidence is right.

    cal = Calibration.from_dict(json.loads(Path("calibration.json").read_text()))
    t = cal.threshold("balanced", Tier.CLOUD)           # from the curve, per preset
    cal.p_escalate(Tier.CLOUD, "relate", t)             # P(escalate | question type)
    cal.accuracy(Tier.CLOUD, "relate", t)               # the cascade's expected accuracy

`splitvlm eval --calibrate` asks a calibration set (its own seed stream: neither training, nor
validation, nor the held-out set) of every LM, the edge's with INT8 vision, and stores one row
per question: its type, the edge answer's confidence, and which LMs answered it right. All the
rest is computed from those rows. A cascade at threshold t answers a question with the edge's
answer when its confidence is >= t, else with the upstream LM's; over t this traces the
calibration curve (escalation rate, accuracy), overall = the mean over the nine types as in
`splitvlm eval`. A preset's threshold is the lowest escalation rate on the curve whose
accuracy is within the preset's tolerance of the upstream LM's own (`TOLERANCE`); `fastest`
has none (a cascade is never faster than the edge alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from splitvlm.data.questions import QTYPES
from splitvlm.plan.plan import Tier, escalates
from splitvlm.plan.qtype import UNKNOWN

TOLERANCE = {"balanced": 0.005, "most-accurate": 0.0, "battery": 0.02}  # accuracy below upstream
UPSTREAM = (Tier.FOG, Tier.CLOUD)


@dataclass(frozen=True)
class Row:
    qtype: str
    confidence: float  # the edge LM's probability of its own answer
    edge: bool  # the edge's answer was right
    upstream: Mapping[Tier, bool]  # each upstream LM's answer was right


@dataclass(frozen=True)
class CurvePoint:
    threshold: float
    escalation_rate: float  # share of questions sent up (mean over types)
    accuracy: float  # the cascade's accuracy (mean over types)


class Calibration:
    """The calibration rows, with the curve and per-type rates they give."""

    def __init__(self, rows: Sequence[Row]) -> None:
        if not rows:
            raise ValueError("a calibration needs at least one row")
        self.rows = list(rows)
        self.qtypes = [t for t in QTYPES if any(r.qtype == t for r in self.rows)]
        self._conf = {t: np.array([r.confidence for r in self.rows if r.qtype == t])
                      for t in self.qtypes}
        self._edge = {t: np.array([r.edge for r in self.rows if r.qtype == t])
                      for t in self.qtypes}
        self._up = {(u, t): np.array([r.upstream.get(u, False) for r in self.rows
                                      if r.qtype == t]) for u in UPSTREAM for t in self.qtypes}
        self._thresholds: dict[tuple[str, Tier], float | None] = {}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Calibration:
        try:
            rows = [Row(str(r["qtype"]), float(r["confidence"]), bool(r["edge"]),
                        {Tier(u): bool(ok) for u, ok in r["upstream"].items()})
                    for r in doc["rows"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed calibration: {exc}") from exc
        return cls(rows)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [{"qtype": r.qtype, "confidence": r.confidence, "edge": r.edge,
                          "upstream": {u.value: ok for u, ok in r.upstream.items()}}
                         for r in self.rows]}

    def _types(self, qtype: str) -> list[str]:
        return [qtype] if qtype in self.qtypes else self.qtypes  # unknown: the mean

    def p_escalate(self, upstream: Tier, qtype: str, threshold: float) -> float:
        """P(confidence < threshold | question type); threshold 1 always escalates."""
        return float(np.mean([np.mean(escalates(self._conf[t], threshold))
                              for t in self._types(qtype)]))

    def accuracy(self, upstream: Tier, qtype: str, threshold: float) -> float:
        """Accuracy of the cascade to `upstream` at `threshold` on this question type."""
        out = []
        for t in self._types(qtype):
            up = escalates(self._conf[t], threshold)
            out.append(np.mean(np.where(up, self._up[(upstream, t)], self._edge[t])))
        return float(np.mean(out))

    def curve(self, upstream: Tier) -> list[CurvePoint]:
        """Every distinct threshold (never, each confidence, always), by escalation rate:
        `p_escalate` and `accuracy` of an unknown type at each, from one sort per type (a
        threshold at a time took 0.3 s for 1,800 rows, on the request that first asked)."""
        cuts = np.array(sorted({0.0, 1.0, *(float(c) for c in
                                            np.concatenate(list(self._conf.values())))}))
        rate, accuracy = np.zeros(len(cuts)), np.zeros(len(cuts))
        for t in self.qtypes:
            order = np.argsort(self._conf[t], kind="stable")
            conf = self._conf[t][order]
            n = len(conf)
            below = np.where(cuts >= 1.0, n, np.searchsorted(conf, cuts, side="left"))  # escalate
            up = np.concatenate([[0], np.cumsum(self._up[(upstream, t)][order])])
            edge = np.concatenate([[0], np.cumsum(self._edge[t][order])])
            rate += below / n
            accuracy += (up[below] + edge[-1] - edge[below]) / n
        k = len(self.qtypes)
        return [CurvePoint(float(t), float(r / k), float(a / k))
                for t, r, a in zip(cuts, rate, accuracy, strict=True)]

    def threshold(self, preset: str, upstream: Tier) -> float | None:
        """The preset's threshold for cascades to `upstream` (None: the preset has none)."""
        key = (preset, upstream)
        if key not in self._thresholds:
            self._thresholds[key] = self._pick(preset, upstream)
        return self._thresholds[key]

    def _pick(self, preset: str, upstream: Tier) -> float | None:
        if preset not in TOLERANCE:
            return None
        target = self.accuracy(upstream, UNKNOWN, 1.0) - TOLERANCE[preset] - 1e-12
        meets = [p for p in self.curve(upstream) if p.accuracy >= target]
        return min(meets, key=lambda p: (p.escalation_rate, p.threshold)).threshold
