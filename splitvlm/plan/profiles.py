"""Compute profiles: seconds per (tier, stage, precision), and per-token decode cost per LM tier.

    profile = ComputeProfile.from_dict(graph, {
        "stages": {"edge": {"fp32": {"vision[0]": 0.004, ...}, "int8": {"vision[0]": 0.002}},
                   "cloud": {"fp32": {"prefill": 0.003, ...}}},
        "decode": {"cloud": {"1": 0.004, "8": 0.006}},      # batch size -> seconds per token
        "preprocess": {"edge": [[0.26, 0.004], [4.19, 0.06]]},  # (megapixels, seconds)
    })
    profile.observe(Tier.EDGE, 2, Precision.INT8, 0.0021)   # every real execution, online

Seeded from the start-up measurement, then updated by an `Ewma` (with its change detector) on
every real execution. An int8 entry that was never measured falls back to the fp32 one (the
stages around vision have no int8 variant). A missing entry means the tier cannot run that
stage (no such model there): the planner rules out plans that need it. `prefill` is an ordinary
stage entry (fp32); `decode` is priced per token from a table over batch sizes, interpolated
linearly between measured batch sizes and extrapolated beyond the largest. `preprocess` is priced
by the source image's size (`ImageCost`: a line in megapixels) where the tier measured it; else
its stage entry is a flat price.

`overhead_s` is what a request costs the edge besides its stages and links: taking the call,
planning, relaying the answer. It is the same for every plan, so it never changes a ranking,
but it is part of the latency a caller sees (and of whether a deadline holds); learnt from every
answer as measured latency minus the stages and link times it reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from splitvlm.plan.ewma import Ewma
from splitvlm.plan.imagecost import ImageCost
from splitvlm.plan.measured import DecodeCost, PreprocessCost, ProfileReport, StageCost
from splitvlm.plan.plan import Precision, Tier
from splitvlm.stages import StageGraph

StageKey = tuple[Tier, int, Precision]


class ComputeProfile:
    """Per-tier compute latencies, updated online. `version` counts updates (for caches)."""

    def __init__(
        self, graph: StageGraph, stage_s: Mapping[StageKey, float] | None = None,
        decode_s: Mapping[Tier, Mapping[int, float]] | None = None, alpha: float = 0.2,
        preprocess: Mapping[Tier, list[tuple[float, float]]] | None = None,
    ) -> None:
        self.graph = graph
        self.alpha = alpha  # EWMA weight of one new execution
        self._stages: dict[StageKey, Ewma] = {}
        self._decode: dict[Tier, dict[int, Ewma]] = {}
        self._images: dict[Tier, ImageCost] = {}
        self._overhead: Ewma | None = None
        self.version = 0
        for (tier, stage, precision), seconds in (stage_s or {}).items():
            self.observe(tier, stage, precision, seconds)
        for tier, table in (decode_s or {}).items():
            for batch, seconds in table.items():
                self.observe_decode(tier, batch, seconds)
        for tier, points in (preprocess or {}).items():
            self._images[tier] = ImageCost(points)

    @classmethod
    def from_report(cls, graph: StageGraph, report: ProfileReport, alpha: float = 0.2
                    ) -> ComputeProfile:
        """From a start-up measurement (what tiers report in their status)."""
        stage_s = {(c.tier, c.stage, c.precision): c.seconds for c in report.stages}
        decode_s: dict[Tier, dict[int, float]] = {}
        for d in report.decode:
            decode_s.setdefault(d.tier, {})[d.batch] = d.seconds_per_token
        preprocess: dict[Tier, list[tuple[float, float]]] = {}
        for p in report.preprocess:
            preprocess.setdefault(p.tier, []).append((p.megapixels, p.seconds))
        return cls(graph, stage_s, decode_s, alpha, preprocess)

    @classmethod
    def from_dict(cls, graph: StageGraph, doc: Mapping[str, Any], alpha: float = 0.2
                  ) -> ComputeProfile:
        """From the readable JSON form of a report (`ProfileReport.from_dict`)."""
        return cls.from_report(graph, ProfileReport.from_dict(graph, doc), alpha)

    def seed(self, report: ProfileReport) -> list[Tier]:
        """Take the entries of `report` for tiers this profile has never measured (e.g. the
        fog's status, which carries the fog's and the cloud's); returns those tiers."""
        known = {tier for tier, _, _ in self._stages}
        other = ComputeProfile.from_report(self.graph, report, self.alpha)
        new = sorted({tier for tier, _, _ in other._stages} - known, key=lambda t: t.order)
        for (tier, stage, precision), est in other._stages.items():
            if tier in new:
                self.observe(tier, stage, precision, est.value)
        for tier, table in other._decode.items():
            if tier in new:
                for batch, est in table.items():
                    self.observe_decode(tier, batch, est.value)
        for tier, cost in other._images.items():
            if tier in new:
                self._images[tier] = cost
        return new

    def to_report(self) -> ProfileReport:
        return ProfileReport(
            tuple(StageCost(tier, stage, precision, self._stages[(tier, stage, precision)].value)
                  for tier, stage, precision in sorted(self._stages)),
            tuple(DecodeCost(tier, b, table[b].value)
                  for tier, table in self._decode.items() for b in sorted(table)),
            tuple(PreprocessCost(tier, mpix, seconds)
                  for tier, cost in self._images.items() for mpix, seconds in cost.points()))

    def stage_s(self, tier: Tier, stage: int, precision: Precision = Precision.FP32
                ) -> float | None:
        """Seconds for one execution of `stage` on `tier`; None when the tier cannot run it."""
        est = self._stages.get((tier, stage, precision))
        if est is None and precision is not Precision.FP32:
            est = self._stages.get((tier, stage, Precision.FP32))
        return None if est is None else est.value

    def preprocess_s(self, tier: Tier, mpix: float | None) -> float | None:
        """Seconds to decode and downscale an image of `mpix` megapixels on `tier` (None: the
        size the tier measured at start-up, i.e. its flat stage entry)."""
        cost = self._images.get(tier)
        if cost is None or mpix is None:
            return self.stage_s(tier, self.graph.preprocess)
        return cost.seconds(mpix) if self.stage_s(tier, self.graph.preprocess) is not None else None

    def observe_preprocess(self, tier: Tier, mpix: float | None, seconds: float) -> None:
        """One measured `preprocess` of an image of `mpix` megapixels (None: unknown size, so
        only the flat entry learns)."""
        cost = self._images.get(tier)
        if mpix is None or cost is None:
            self.observe(tier, self.graph.preprocess, Precision.FP32, seconds)
            return
        cost.observe(mpix, seconds)
        self.version += 1

    def prefill_s(self, tier: Tier) -> float | None:
        return self.stage_s(tier, self.graph.prefill)

    def decode_s(self, tier: Tier, batch: int) -> float | None:
        """Seconds per generated token when `tier`'s LM decodes a batch of `batch` requests."""
        table = self._decode.get(tier)
        if not table:
            return None
        sizes = sorted(table)
        if batch <= sizes[0]:
            return table[sizes[0]].value
        for lo, hi in zip(sizes, sizes[1:], strict=False):
            if batch <= hi:
                t = (batch - lo) / (hi - lo)
                return table[lo].value + t * (table[hi].value - table[lo].value)
        last = table[sizes[-1]].value
        if len(sizes) == 1:
            return last
        slope = (last - table[sizes[-2]].value) / (sizes[-1] - sizes[-2])
        return last + max(0.0, slope) * (batch - sizes[-1])

    @property
    def overhead_s(self) -> float:
        """Seconds per request outside stages and links (0 until an answer measured it)."""
        return 0.0 if self._overhead is None else self._overhead.value

    def observe_overhead(self, seconds: float) -> None:
        """One request's latency minus its stage and link times (clipped at 0)."""
        seconds = max(seconds, 0.0)
        if self._overhead is None:
            self._overhead = Ewma(seconds, self.alpha)
        else:
            self._overhead.update(seconds)
        self.version += 1

    def observe(self, tier: Tier, stage: int, precision: Precision, seconds: float) -> None:
        """One measured execution of `stage` on `tier` at `precision`."""
        if not 0 <= stage < self.graph.n_stages:
            raise ValueError(f"stage={stage}; the graph has stages 0..{self.graph.n_stages - 1}")
        if precision is Precision.INT8 and tier is not Tier.EDGE:
            raise ValueError(f"precision int8 on tier {tier}; int8 vision runs only on the edge")
        est = self._stages.get((tier, stage, precision))
        if est is None:
            self._stages[(tier, stage, precision)] = Ewma(seconds, self.alpha)
        else:
            est.update(seconds)
        self.version += 1

    def observe_decode(self, tier: Tier, batch: int, per_token_s: float) -> None:
        """Measured seconds per token while `tier` decoded a batch of `batch` requests."""
        if batch < 1:
            raise ValueError(f"batch={batch}; expected >= 1")
        table = self._decode.setdefault(tier, {})
        if batch in table:
            table[batch].update(per_token_s)
        else:
            table[batch] = Ewma(per_token_s, self.alpha)
        self.version += 1
