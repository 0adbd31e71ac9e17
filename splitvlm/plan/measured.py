"""What a tier measured of its compute at start-up, as it travels to the planner.

    report = ProfileReport(stages=(StageCost(Tier.FOG, 2, Precision.FP32, 0.0011), ...),
                           decode=(DecodeCost(Tier.FOG, 1, 0.0004),),
                           preprocess=(PreprocessCost(Tier.FOG, 0.26, 0.004), ...))
    fog_and_cloud = fog_report.merged(cloud_report)      # a tier reports those behind it too
    ComputeProfile.from_report(graph, report)              # the planner's seed

The wire's `ComputeProfile` message maps onto it field for field (stage indices, not names).
`from_dict` / `to_dict` read and write the readable JSON form, keyed by stage names:

    {"stages": {"edge": {"int8": {"vision[0]": 0.0011, ...}, "fp32": {...}}},
     "decode": {"edge": {"1": 0.0004}},            # batch size -> seconds per token
     "preprocess": {"edge": [[0.26, 0.004]]}}      # (megapixels, seconds)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from splitvlm.errors import ConfigError
from splitvlm.plan.plan import Precision, Tier
from splitvlm.stages import StageGraph


@dataclass(frozen=True)
class StageCost:
    tier: Tier
    stage: int  # stage index
    precision: Precision
    seconds: float


@dataclass(frozen=True)
class DecodeCost:
    tier: Tier
    batch: int  # requests decoded together
    seconds_per_token: float


@dataclass(frozen=True)
class PreprocessCost:
    tier: Tier
    megapixels: float  # of the image as sent
    seconds: float


@dataclass(frozen=True)
class ProfileReport:
    stages: tuple[StageCost, ...] = ()
    decode: tuple[DecodeCost, ...] = ()
    preprocess: tuple[PreprocessCost, ...] = ()

    def __post_init__(self) -> None:  # one order, so that equal reports compare equal
        object.__setattr__(self, "stages", tuple(sorted(
            self.stages, key=lambda c: (c.tier.order, c.precision.value, c.stage))))
        object.__setattr__(self, "decode", tuple(sorted(
            self.decode, key=lambda d: (d.tier.order, d.batch))))
        object.__setattr__(self, "preprocess", tuple(sorted(
            self.preprocess, key=lambda p: (p.tier.order, p.megapixels))))

    @property
    def tiers(self) -> frozenset[Tier]:
        return frozenset({c.tier for c in self.stages} | {d.tier for d in self.decode}
                         | {p.tier for p in self.preprocess})

    def merged(self, *others: ProfileReport) -> ProfileReport:
        """This report with the entries of `others` for the tiers it does not have."""
        out = self
        for other in others:
            new = other.tiers - out.tiers
            out = ProfileReport(
                out.stages + tuple(c for c in other.stages if c.tier in new),
                out.decode + tuple(c for c in other.decode if c.tier in new),
                out.preprocess + tuple(c for c in other.preprocess if c.tier in new))
        return out

    @classmethod
    def from_dict(cls, graph: StageGraph, doc: Mapping[str, Any]) -> ProfileReport:
        """From the readable JSON form (module docstring); ConfigError on a malformed one."""
        try:
            stages = tuple(
                StageCost(Tier(tier), graph.index(name), Precision(precision), float(seconds))
                for tier, rows in doc.get("stages", {}).items()
                for precision, row in rows.items()
                for name, seconds in row.items())
            decode = tuple(
                DecodeCost(Tier(tier), int(batch), float(seconds))
                for tier, table in doc.get("decode", {}).items()
                for batch, seconds in table.items())
            preprocess = tuple(
                PreprocessCost(Tier(tier), float(mpix), float(seconds))
                for tier, points in doc.get("preprocess", {}).items()
                for mpix, seconds in points)
        except (AttributeError, TypeError, ValueError) as exc:
            raise ConfigError(f"malformed compute profile: {exc}") from exc
        return cls(stages, decode, preprocess)

    def to_dict(self, graph: StageGraph) -> dict[str, Any]:
        names = [s.name for s in graph.stages]
        stages: dict[str, dict[str, dict[str, float]]] = {}
        for c in self.stages:
            stages.setdefault(c.tier.value, {}).setdefault(c.precision.value, {})[
                names[c.stage]] = c.seconds
        decode: dict[str, dict[str, float]] = {}
        for d in self.decode:
            decode.setdefault(d.tier.value, {})[str(d.batch)] = d.seconds_per_token
        preprocess: dict[str, list[list[float]]] = {}
        for p in self.preprocess:
            preprocess.setdefault(p.tier.value, []).append([p.megapixels, p.seconds])
        return {"stages": stages, "decode": decode, "preprocess": preprocess}
