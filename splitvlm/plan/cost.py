"""The cost model: predicted latency, edge energy and accuracy of a plan for one request.

    latency  = sum over steps  (stage compute + wait at the tier [+ prefill + tokens * per_token])
             + sum over links crossed  (rtt + hop overhead + 8 * payload_bytes / bandwidth_bps)
             + the edge's per-request overhead (ComputeProfile.overhead_s, the same for all)
    energy   = edge compute seconds * edge_active_w + seconds of the edge's hand-off * edge_radio_w
    accuracy = AccuracyTable(LM tier, question type, visual precision)
    objective = w.latency * latency + w.energy * energy - w.accuracy * accuracy

A relay (edge -> cloud through the fog) crosses both links with the same payload. A step whose
hand-off is CACHE_REF runs nothing (the fog holds its output). Every hand-off also carries the
question. A stage that the profile lacks on a tier makes the plan's latency NaN: infeasible.

`CostModel.evaluate` prices one plan with a full breakdown (the reference, and the explanation
of a decision); `CostModel.prices` prices every `Item` of a `CandidateSet` at once, which the
planner sums per candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from splitvlm.plan.accuracy import AccuracyTable
from splitvlm.plan.candidates import Item, ItemKind, visual_precision
from splitvlm.plan.links import LinkSet
from splitvlm.plan.load import LoadTracker
from splitvlm.plan.plan import (
    LINKS,
    Forecast,
    Link,
    LinkForecast,
    Plan,
    Precision,
    StageForecast,
    Tier,
    WaitForecast,
    crossed,
)
from splitvlm.plan.presets import PlannerConfig, Weights
from splitvlm.plan.profiles import ComputeProfile
from splitvlm.plan.request import PlanRequest
from splitvlm.stages import StageGraph, describe_range
from splitvlm.wire.codecs import Encoding, codec


def encoded_bytes(graph: StageGraph, cut: int, encoding: Encoding, config: PlannerConfig
                  ) -> float:
    """Bytes of the boundary tensor at `cut` in a tensor encoding, or of a CACHE_REF."""
    if encoding is Encoding.CACHE_REF:
        return float(config.cache_ref_bytes)
    chosen = codec(encoding)
    nbytes = float(chosen.nbytes(graph.boundary(cut).shape))
    return nbytes * config.lz4_ratio if chosen.compressed else nbytes


def payload_bytes(graph: StageGraph, cut: int, encoding: Encoding, request: PlanRequest,
                  config: PlannerConfig) -> float:
    """Bytes a hand-off at `cut` in `encoding` sends for `request`, question included."""
    if encoding is Encoding.IMAGE:
        data = float(request.image_bytes)
    elif encoding is Encoding.PNG:
        data = float(request.png_bytes or graph.boundary(graph.patch_embed).nbytes())
    else:
        data = encoded_bytes(graph, cut, encoding, config)
    return data + request.question_bytes


@dataclass(frozen=True)
class StepCost:
    tier: Tier
    stages: str  # 'vision[2]..decode', or '-'
    precision: Precision
    stage_s: tuple[tuple[int, float], ...]  # (stage index, seconds) for each stage computed
    prefill_s: float  # LM step only
    decode_s: float  # LM step only: tokens * per-token seconds
    wait_s: float
    cached: bool  # skipped: the receiver holds the output

    @property
    def total_s(self) -> float:
        return sum(s for _, s in self.stage_s) + self.prefill_s + self.decode_s + self.wait_s


@dataclass(frozen=True)
class LinkCost:
    link: Link
    cut: int
    boundary: str  # image | pixels | tokens | codes | visual
    encoding: Encoding
    payload_bytes: float
    seconds: float
    rtt_s: float = 0.0  # the link estimate that priced it
    overhead_s: float = 0.0
    bandwidth_bps: float = 0.0


@dataclass(frozen=True)
class Prediction:
    latency_s: float  # NaN: a stage the profile lacks (infeasible)
    energy_j: float
    accuracy: float
    objective: float
    edge_compute_s: float
    edge_bytes: float
    steps: tuple[StepCost, ...]
    links: tuple[LinkCost, ...]
    overhead_s: float = 0.0
    accuracy_interval: tuple[float, float] = (math.nan, math.nan)  # Wilson 95 % of `accuracy`
    p_escalate: float | None = None  # a cascade: P(escalate | question type)
    escalated_latency_s: float | None = None  # a cascade: the latency when it escalates

    @property
    def feasible(self) -> bool:
        return not math.isnan(self.latency_s)

    def forecast(self, graph: StageGraph) -> Forecast:
        """The compact summary that travels with the plan (`Plan.predicted`)."""
        stages = []
        for step in self.steps:
            stages += [StageForecast(step.tier, i, s) for i, s in step.stage_s]
            if step.prefill_s or step.decode_s:
                stages += [StageForecast(step.tier, graph.prefill, step.prefill_s),
                           StageForecast(step.tier, graph.decode, step.decode_s)]
        return Forecast(
            self.latency_s, self.energy_j, self.accuracy, self.objective, self.edge_compute_s,
            self.edge_bytes, self.overhead_s, tuple(stages),
            tuple(WaitForecast(s.tier, s.wait_s) for s in self.steps),
            tuple(LinkForecast(h.link, h.seconds, h.payload_bytes) for h in self.links),
            self.p_escalate, self.escalated_latency_s)


class CostModel:
    """Prices plans from the current profiles, link estimates, load and accuracy table."""

    def __init__(self, graph: StageGraph, profile: ComputeProfile, links: LinkSet,
                 load: LoadTracker, accuracy: AccuracyTable, config: PlannerConfig) -> None:
        self.graph, self.profile, self.links = graph, profile, links
        self.load, self.accuracy, self.config = load, accuracy, config
        self._names = tuple(stage.name for stage in graph.stages)

    def evaluate(self, plan: Plan, request: PlanRequest, weights: Weights,
                 qtype: str | None = None) -> Prediction:
        """The prediction for `plan`, with its breakdown."""
        qtype = request.resolved_qtype() if qtype is None else qtype
        steps = tuple(self._step(plan, i, request.resolved_decode_tokens(qtype),
                                 request.image_mpix) for i in range(len(plan.steps)))
        hops = tuple(self._hops(plan, request))
        overhead = self.profile.overhead_s
        latency = sum(s.total_s for s in steps) + sum(h.seconds for h in hops) + overhead
        edge = steps[0]
        edge_compute = edge.total_s - edge.wait_s
        edge_bytes = next((h.payload_bytes for h in hops if h.link is Link.EDGE_FOG), 0.0)
        airtime = sum(h.seconds for h in hops if h.link is Link.EDGE_FOG)
        energy = (edge_compute * self.config.edge_active_w
                  + airtime * self.config.edge_radio_w)
        cell = (plan.lm_tier, qtype, visual_precision(plan))
        accuracy = self.accuracy.expected(*cell)
        objective = (weights.latency * latency + weights.energy * energy
                     - weights.accuracy * accuracy)
        return Prediction(latency, energy, accuracy, objective, edge_compute, edge_bytes,
                          steps, hops, overhead, self.accuracy.interval(*cell))

    def _stage_s(self, tier: Tier, stage: int, precision: Precision, mpix: float | None
                 ) -> float:
        if stage == self.graph.preprocess:
            return _nan(self.profile.preprocess_s(tier, mpix))
        return _nan(self.profile.stage_s(tier, stage, precision))

    def _step(self, plan: Plan, i: int, tokens: float, mpix: float | None) -> StepCost:
        step, graph, names = plan.steps[i], self.graph, self._names
        is_lm = i == len(plan.steps) - 1
        cached = i < len(plan.encodings) and plan.encodings[i] is Encoding.CACHE_REF
        run = () if cached else range(step.start, min(step.stop, graph.prefill))
        stage_s = tuple((s, self._stage_s(step.tier, s, step.precision, mpix)) for s in run)
        prefill = decode = 0.0
        if is_lm:
            prefill = _nan(self.profile.prefill_s(step.tier))
            per_token = self.profile.decode_s(step.tier, self.load.batch(step.tier))
            decode = tokens * _nan(per_token)
        wait = self.load.wait_s(step.tier) if stage_s or is_lm else 0.0
        return StepCost(step.tier, describe_range(names, step.start, step.stop), step.precision,
                        stage_s, prefill, decode, wait, cached)

    def _hops(self, plan: Plan, request: PlanRequest) -> list[LinkCost]:
        hops = []
        for i, encoding in enumerate(plan.encodings):
            cut = plan.cut(i)
            nbytes = payload_bytes(self.graph, cut, encoding, request, self.config)
            boundary = self.graph.boundary(cut).name
            for link in crossed(plan.steps[i].tier, plan.steps[i + 1].tier):
                est = self.links[link]
                hops.append(LinkCost(link, cut, boundary, encoding, nbytes,
                                     est.transfer_s(nbytes), est.rtt_s, est.overhead_s,
                                     est.bandwidth_bps))
        return hops

    def pricer(self, items: Sequence[Item]) -> ItemPricer:
        return ItemPricer(self, items)


class ItemPricer:
    """Prices a fixed list of items per request: the planner's fast path.

    What does not change between requests (item groups, tensor payload sizes) is worked out
    once; compute prices are re-read only when the profile's `version` moved.
    """

    def __init__(self, model: CostModel, items: Sequence[Item]) -> None:
        self.model = model
        self.n = len(items)
        cols = {kind: [c for c, item in enumerate(items) if item.kind is kind] for kind in ItemKind}
        self._compute = [(c, items[c]) for c in cols[ItemKind.COMPUTE]]
        self._preprocess = [(c, item.tier) for c, item in self._compute
                            if item.stage == model.graph.preprocess]  # priced by image size
        self._decode = [(c, items[c].tier) for c in cols[ItemKind.DECODE]]
        self._wait = [(c, items[c].tier) for c in cols[ItemKind.WAIT]]
        self._accuracy = [(c, items[c]) for c in cols[ItemKind.ACCURACY]]
        transfers = [items[c] for c in cols[ItemKind.TRANSFER]]
        self._transfer_cols = np.array(cols[ItemKind.TRANSFER], dtype=np.intp)
        self._link = np.array([LINKS.index(t.link) for t in transfers], dtype=np.intp)
        self._from_edge = np.array([t.link is Link.EDGE_FOG for t in transfers], dtype=bool)
        self._is_image = np.array([t.encoding is Encoding.IMAGE for t in transfers], dtype=float)
        self._is_png = np.array([t.encoding is Encoding.PNG for t in transfers], dtype=float)
        self._base_bytes = np.array([
            0.0 if t.encoding in (Encoding.IMAGE, Encoding.PNG)
            else encoded_bytes(model.graph, t.cut, t.encoding, model.config) for t in transfers])
        self._edge_compute = np.array(
            [c for c, item in enumerate(items) if item.tier is Tier.EDGE
             and item.kind in (ItemKind.COMPUTE, ItemKind.DECODE)], dtype=np.intp)
        self._compute_version: tuple[int, int] = (0, -1)  # (id of the profile, its version)
        self._compute_cols = np.array([c for c, _ in self._compute], dtype=np.intp)
        self._compute_s = np.zeros(len(self._compute))

    def prices(self, request: PlanRequest, qtype: str
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(latency_s, energy_j, accuracy) of every item, each with one trailing 0 (padding).

        A candidate's total is the sum over its items; NaN latency marks a missing profile.
        """
        model, config = self.model, self.model.config
        latency, energy, accuracy = np.zeros(self.n + 1), np.zeros(self.n + 1), np.zeros(self.n + 1)
        latency[self._compute_cols] = self._compute_prices()
        if request.image_mpix is not None:
            for col, tier in self._preprocess:
                latency[col] = _nan(model.profile.preprocess_s(tier, request.image_mpix))
        tokens = request.resolved_decode_tokens(qtype)
        for col, tier in self._decode:
            latency[col] = tokens * _nan(model.profile.decode_s(tier, model.load.batch(tier)))
        for col, tier in self._wait:
            latency[col] = model.load.wait_s(tier)
        png = request.png_bytes or model.graph.boundary(model.graph.patch_embed).nbytes()
        nbytes = (self._base_bytes + self._is_image * request.image_bytes + self._is_png * png
                  + request.question_bytes)
        fixed = np.array([model.links[link].fixed_s for link in LINKS])
        bandwidth = np.array([model.links[link].bandwidth_bps for link in LINKS])
        latency[self._transfer_cols] = fixed[self._link] + 8.0 * nbytes / bandwidth[self._link]
        energy[self._transfer_cols] = np.where(
            self._from_edge, latency[self._transfer_cols] * config.edge_radio_w, 0.0)
        energy[self._edge_compute] = latency[self._edge_compute] * config.edge_active_w
        for col, item in self._accuracy:
            accuracy[col] = model.accuracy.expected(item.tier, qtype, item.precision)
        return latency, energy, accuracy

    def _compute_prices(self) -> np.ndarray:
        profile = self.model.profile
        version = (id(profile), profile.version)
        if version != self._compute_version:
            self._compute_s = np.array(
                [_nan(profile.stage_s(item.tier, item.stage, item.precision))
                 for _, item in self._compute])
            self._compute_version = version
        return self._compute_s



def _nan(seconds: float | None) -> float:
    return math.nan if seconds is None else seconds
