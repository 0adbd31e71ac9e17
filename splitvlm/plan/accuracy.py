"""Expected answer accuracy per LM tier x question type x visual precision (`splitvlm eval`).

    table = AccuracyTable.from_dict({
        "cloud": {"fp32": {"color": 0.99, "relate": 0.97, ...}, "int8": {...}},
        "fog": {...}, "edge": {...},
    })
    table.expected(Tier.EDGE, "relate", Precision.INT8)

Rules, in order: a missing int8 row reads the fp32 row of that tier; a question type missing
from a row, and `unknown`, read the mean of the row; a tier without any row has accuracy 0 (an
unmeasured LM earns nothing). Values lie in [0, 1]. Then, per tier and question type, the
precisions whose values differ by less than `resolution` read their mean: `splitvlm eval` asks
200 questions per type, so 0.5 pt is one question, noise a planner must not pay latency for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from splitvlm.data.questions import QTYPES
from splitvlm.plan.plan import TIERS, Precision, Tier
from splitvlm.plan.qtype import UNKNOWN

Row = Mapping[str, float]
RESOLUTION = 0.01  # precision rows closer than this (under 2 of 200 questions) are pooled


class AccuracyTable:
    """Accuracy in [0, 1] by (tier, question type, precision), with the fallbacks above."""

    def __init__(self, rows: Mapping[Tier, Mapping[Precision, Row]],
                 resolution: float = RESOLUTION) -> None:
        self._rows = {tier: {p: dict(row) for p, row in by_p.items()} for tier, by_p in
                      rows.items()}
        self._table: dict[tuple[Tier, str, Precision], float] = {}
        for tier, by_precision in self._rows.items():
            for precision, row in by_precision.items():
                for qtype, value in row.items():
                    if not (math.isfinite(value) and 0 <= value <= 1):
                        raise ValueError(f"accuracy[{tier}][{precision}][{qtype}]={value!r}; "
                                         "expected a number in [0, 1]")
        for tier in TIERS:
            for qtype in (*QTYPES, UNKNOWN):
                values = {p: self._lookup(tier, qtype, p) for p in Precision}
                if max(values.values()) - min(values.values()) < resolution:
                    values = dict.fromkeys(values, sum(values.values()) / len(values))
                for precision, value in values.items():
                    self._table[(tier, qtype, precision)] = value

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], resolution: float = RESOLUTION) -> AccuracyTable:
        try:
            rows = {
                Tier(tier): {Precision(p): {str(q): float(v) for q, v in row.items()}
                             for p, row in by_precision.items()}
                for tier, by_precision in doc.items()
            }
        except (AttributeError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed accuracy table: {exc}") from exc
        return cls(rows, resolution)

    @classmethod
    def uniform(cls, by_tier: Mapping[Tier, float]) -> AccuracyTable:
        """Every question type equally accurate per tier (e.g. before `splitvlm eval` ran)."""
        return cls({tier: {Precision.FP32: dict.fromkeys(QTYPES, value)}
                    for tier, value in by_tier.items()})

    def to_dict(self) -> dict[str, Any]:
        return {tier.value: {p.value: dict(row) for p, row in by_p.items()}
                for tier, by_p in self._rows.items()}

    def expected(self, tier: Tier, qtype: str, precision: Precision = Precision.FP32) -> float:
        """Expected accuracy; a question type outside QTYPES reads the `unknown` (mean) row."""
        value = self._table.get((tier, qtype, precision))
        return self._table[(tier, UNKNOWN, precision)] if value is None else value

    def _lookup(self, tier: Tier, qtype: str, precision: Precision) -> float:
        by_precision = self._rows.get(tier, {})
        row = by_precision.get(precision) or by_precision.get(Precision.FP32)
        if not row:
            return 0.0
        if qtype in row:
            return row[qtype]
        known = [v for q, v in row.items() if q in QTYPES]
        values = known or list(row.values())
        return sum(values) / len(values)
