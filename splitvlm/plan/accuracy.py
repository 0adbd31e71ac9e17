"""Expected answer accuracy per LM tier x question type x visual precision (`splitvlm eval`).

    table = AccuracyTable.from_dict({
        "cloud": {"fp32": {"color": 0.99, "relate": 0.97, ...}, "int8": {...}},
        "fog": {...}, "edge": {...},
    })
    table.expected(Tier.EDGE, "relate", Precision.INT8)

Rules, in order: a missing int8 row reads the fp32 row of that tier; a question type missing
from a row, and `unknown`, read the mean of the row; a tier without any row has accuracy 0 (an
unmeasured LM earns nothing). Values lie in [0, 1].

Every measured cell is a share of `n` questions (`splitvlm eval` asks 200 per type), so it
has a sampling error: `interval()` is its Wilson 95 % interval. Per tier and question type,
precisions whose difference is within the sampling error of that difference (1.96 standard
errors) read their mean: noise a planner must not pay latency for. A table written by hand has
no `n`; its precisions are pooled when closer than `resolution`.

The file `splitvlm eval --table` writes: {"questions_per_type": n, "tiers": {tier: {precision:
{qtype: accuracy}}}}; a bare {tier: ...} mapping is a table without `n`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from splitvlm.data.questions import QTYPES
from splitvlm.plan.plan import TIERS, Precision, Tier
from splitvlm.plan.qtype import UNKNOWN

Row = Mapping[str, float]
RESOLUTION = 0.01  # without n: precision rows closer than this are pooled
Z_95 = 1.96  # two-sided 95 %: the interval's half-width in standard errors


class AccuracyTable:
    """Accuracy in [0, 1] by (tier, question type, precision), with the fallbacks above."""

    def __init__(self, rows: Mapping[Tier, Mapping[Precision, Row]],
                 resolution: float = RESOLUTION, n: int | None = None) -> None:
        """rows: measured accuracies; n: the questions behind each measured cell (None: the
        values are exact, e.g. written by hand, and `resolution` decides the pooling)."""
        if n is not None and n <= 0:
            raise ValueError(f"accuracy table questions_per_type={n!r}; expected > 0")
        self.n = n
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
                if self._indistinct(min(values.values()), max(values.values()), resolution):
                    values = dict.fromkeys(values, sum(values.values()) / len(values))
                for precision, value in values.items():
                    self._table[(tier, qtype, precision)] = value

    def _indistinct(self, low: float, high: float, resolution: float) -> bool:
        if self.n is None:
            return high - low < resolution
        se = math.sqrt((low * (1 - low) + high * (1 - high)) / self.n)
        return high - low <= max(Z_95 * se, 0.5 / self.n)  # one question apart, at the least

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], resolution: float = RESOLUTION) -> AccuracyTable:
        try:
            n = int(doc["questions_per_type"]) if "questions_per_type" in doc else None
            tiers = doc["tiers"] if "tiers" in doc else doc
            rows = {
                Tier(tier): {Precision(p): {str(q): float(v) for q, v in row.items()}
                             for p, row in by_precision.items()}
                for tier, by_precision in tiers.items()
            }
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed accuracy table: {exc}") from exc
        return cls(rows, resolution, n)

    @classmethod
    def uniform(cls, by_tier: Mapping[Tier, float]) -> AccuracyTable:
        """Every question type equally accurate per tier (e.g. before `splitvlm eval` ran)."""
        return cls({tier: {Precision.FP32: dict.fromkeys(QTYPES, value)}
                    for tier, value in by_tier.items()})

    def to_dict(self) -> dict[str, Any]:
        tiers = {tier.value: {p.value: dict(row) for p, row in by_p.items()}
                 for tier, by_p in self._rows.items()}
        return tiers if self.n is None else {"questions_per_type": self.n, "tiers": tiers}

    def interval(self, tier: Tier, qtype: str, precision: Precision = Precision.FP32
                 ) -> tuple[float, float]:
        """Wilson 95 % interval of `expected` (a point when the table has no n)."""
        p = self.expected(tier, qtype, precision)
        if self.n is None:
            return p, p
        return wilson(p, self.n)

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


def wilson(p: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a share p of n trials."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
