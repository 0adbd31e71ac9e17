"""The planner: per request, price every candidate plan exactly and pick the best allowed one.

    planner = Planner(graph, profile, links, load, accuracy)
    decision = planner.plan(PlanRequest("describe the image", image_bytes=40_000,
                                        deadline_s=0.5, preset="balanced"))
    print(decision.explain())
    ...                                   # run decision.plan, measure it
    planner.record(decision.plan, Measurement(latency_s=0.41, stage_s={...}, transfers=(...)))

Candidates are built once per graph (`CandidateSet`); a decision re-prices their items and sums
them with one numpy gather (well under 1 ms for the default graph's 848 plans). Constraints, in
order: policy (`offline`: edge only; `pixels_stay_on_edge`: no IMAGE/PNG hand-off), reachability
(no plan crosses a link marked down), CACHE_REF only on a fog cache hit, profiles (a stage a
tier cannot run), then the deadline: the best plan by objective among those predicted within
it, or else the fastest allowed plan with `deadline_met=False`. `record` feeds measurements
back into the profiles and links and tracks the prediction error (MAPE of latency).

Errors: `NoFeasiblePlan` (a `FailedPrecondition`, FAILED_PRECONDITION on the wire) when
policy, reachability and profiles leave nothing; recoverable by relaxing the policy or once a
link is up again.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from splitvlm.errors import NoFeasiblePlan
from splitvlm.plan.accuracy import AccuracyTable
from splitvlm.plan.calibration import Calibration
from splitvlm.plan.candidates import CandidateSet
from splitvlm.plan.cascade import CascadePricer
from splitvlm.plan.cost import CostModel, Prediction
from splitvlm.plan.links import LinkSet
from splitvlm.plan.load import LoadTracker
from splitvlm.plan.plan import Link, Plan, Precision, Tier
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import PlannerConfig, Weights, preset
from splitvlm.plan.profiles import ComputeProfile
from splitvlm.plan.request import PlanRequest
from splitvlm.stages import StageGraph


@dataclass(frozen=True)
class Transfer:
    link: Link
    payload_bytes: int
    seconds: float  # first byte sent to the receiver's acknowledgement


@dataclass(frozen=True)
class Measurement:
    """What running a plan measured (tier and precision of each stage come from the plan)."""

    latency_s: float  # end to end, as the caller saw it
    stage_s: Mapping[int, float] = field(default_factory=dict)  # stage index -> seconds
    transfers: tuple[Transfer, ...] = ()
    decode_tokens: int = 0  # tokens the LM tier decoded ...
    decode_s: float = 0.0  # ... in this many seconds ...
    batch: int = 1  # ... in a batch of this many requests
    failed: tuple[Link, ...] = ()  # links on which a transfer failed
    overhead_s: float | None = None  # latency not spent in stages or links, when known
    image_mpix: float | None = None  # the source image's megapixels, when known


@dataclass(frozen=True)
class Decision:
    plan: Plan  # the chosen plan, `predicted` filled from `prediction`
    prediction: Prediction
    runner_up: Plan | None  # the next best allowed plan (by the same ranking)
    runner_up_prediction: Prediction | None
    n_candidates: int  # plans enumerated for the graph
    n_feasible: int  # allowed by policy, reachability, cache and profiles
    deadline_met: bool
    deadline_s: float
    qtype: str
    weights: Weights

    def explain(self) -> str:
        p = self.prediction
        low, high = p.accuracy_interval
        interval = "" if low == high or math.isnan(low) else f" (95 % {low:.1%}-{high:.1%})"
        lines = [f"{self.plan.name}: latency {_ms(p.latency_s)}, energy {p.energy_j:.3g} J, "
                 f"accuracy {p.accuracy:.1%}{interval}, objective {p.objective:.4g}"]
        up = self.plan.escalation
        if up is not None and p.p_escalate is not None and p.escalated_latency_s is not None:
            lines.append(f"  cascade: the edge answers; below confidence {up.threshold:.3g} "
                         f"(P = {p.p_escalate:.0%} for {self.qtype}) its visual tokens go "
                         f"{up.encoding} to the {up.tier} LM: {_ms(p.escalated_latency_s)}")
        w = self.weights
        deadline = "no deadline" if math.isinf(self.deadline_s) else (
            f"deadline {_ms(self.deadline_s)} " + ("met" if self.deadline_met
                                                    else "missed: the fastest allowed plan"))
        lines.append(f"  qtype {self.qtype}; weights latency {w.latency:g}/s, energy "
                     f"{w.energy:g}/J, accuracy {w.accuracy:g}; {deadline}")
        for step in p.steps:
            what = "skipped: the fog caches its output" if step.cached else (
                f"compute {_ms(sum(s for _, s in step.stage_s))}")
            if step.prefill_s or step.decode_s:
                what += f", prefill {_ms(step.prefill_s)}, decode {_ms(step.decode_s)}"
            lines.append(f"  {step.tier:<5} {step.stages:<26} {step.precision:<4} {what}, "
                         f"wait {_ms(step.wait_s)}")
        for hop in p.links:
            lines.append(f"  {hop.link:<9} cut {hop.cut} {hop.boundary} as {hop.encoding}: "
                         f"{hop.payload_bytes:,.0f} B, {_ms(hop.seconds)} (rtt "
                         f"{_ms(hop.rtt_s)} + hop {_ms(hop.overhead_s)} + "
                         f"{hop.bandwidth_bps / 1e6:.3g} Mbit/s)")
        if self.runner_up is not None and self.runner_up_prediction is not None:
            r = self.runner_up_prediction
            lines.append(f"  runner-up {self.runner_up.name}: objective "
                         f"{r.objective - p.objective:+.3g}, latency {_ms(r.latency_s)}, "
                         f"accuracy {r.accuracy:.1%}")
        lines.append(f"  {self.n_feasible} of {self.n_candidates} candidates allowed")
        return "\n".join(lines)


class Planner:
    """Chooses a plan per request; learns from measured executions."""

    def __init__(
        self, graph: StageGraph, profile: ComputeProfile, links: LinkSet, load: LoadTracker,
        accuracy: AccuracyTable, config: PlannerConfig | None = None,
        candidates: CandidateSet | None = None, calibration: Calibration | None = None,
    ) -> None:
        """calibration: the cascade calibration; None: no cascades are considered."""
        self.graph = graph
        self.config = config or PlannerConfig()
        self.candidates = candidates or CandidateSet(graph)
        if self.candidates.graph != graph:
            raise ValueError("candidates were built for another stage graph")
        self.cost = CostModel(graph, profile, links, load, accuracy, self.config)
        self._pricer = self.cost.pricer(self.candidates.items)
        self._errors: deque[float] = deque(maxlen=self.config.mape_window)
        cs = self.candidates
        self._not_cache_ref, self._not_pixels = ~cs.cache_ref, ~cs.pixels_leave_edge
        self._not_crossing = {link: ~mask for link, mask in cs.crosses.items()}
        self.calibration = calibration
        self._cascades = None if calibration is None else CascadePricer(
            self.cost, self.candidates, calibration)

    def plan(self, request: PlanRequest, cascades: bool = True) -> Decision:
        """The best allowed plan; `cascades=False` leaves cascades out (fixed plans only)."""
        qtype = request.resolved_qtype()
        weights = request.weights or preset(request.preset or self.config.preset)
        latency_p, energy_p, accuracy_p = self._pricer.prices(request, qtype)
        objective_p = (weights.latency * latency_p + weights.energy * energy_p
                       - weights.accuracy * accuracy_p)
        gather = self.candidates.gather  # (max_items, n_candidates)
        overhead = self.cost.profile.overhead_s  # the same for every plan
        latency = latency_p[gather].sum(axis=0) + overhead  # (n_candidates,)
        objective = objective_p[gather].sum(axis=0) + weights.latency * overhead
        allowed = self._allowed(request) & ~np.isnan(latency)
        n_allowed = int(allowed.sum())
        if not n_allowed:
            raise NoFeasiblePlan(f"no plan allowed for policy {sorted(request.policy)}, "
                                 f"cache hit {request.cache_hit_at_fog} and reachable tiers "
                                 f"{[t.value for t in Tier if self.cost.links.reachable(t)]}")
        meets = allowed & (latency <= request.deadline_s)
        deadline_met = bool(meets.any())
        score = np.where(meets, objective, np.inf) if deadline_met else np.where(
            allowed, latency, np.inf)
        best = int(np.argmin(score))
        score[best] = np.inf
        second = int(np.argmin(score))
        runner_up = second if math.isfinite(score[second]) else None
        chosen, prediction = self._priced(best, request, weights, qtype)
        other, other_prediction = (None, None) if runner_up is None else self._priced(
            runner_up, request, weights, qtype)
        n_candidates, n_allowed = len(self.candidates), n_allowed
        if self._cascades is not None and cascades:
            options = self._cascades.options(request, weights, qtype,
                                             request.preset or self.config.preset, latency,
                                             allowed)
            n_candidates, n_allowed = n_candidates + len(options), n_allowed + len(options)
            for plan, cascade_prediction, worst_s in options:
                meets_too = worst_s <= request.deadline_s or not deadline_met
                if meets_too and cascade_prediction.objective < prediction.objective:
                    other, other_prediction = chosen, prediction
                    chosen, prediction = plan, cascade_prediction
        return Decision(chosen, prediction, other, other_prediction, n_candidates,
                        n_allowed, deadline_met, request.deadline_s, qtype, weights)

    def _allowed(self, request: PlanRequest) -> np.ndarray:
        cs = self.candidates
        allowed = np.ones(len(cs), dtype=bool) if request.cache_hit_at_fog else (
            self._not_cache_ref.copy())
        if Policy.OFFLINE in request.policy:
            allowed &= cs.edge_only
        if Policy.PIXELS_STAY_ON_EDGE in request.policy:
            allowed &= self._not_pixels
        for link in Link:
            if not self.cost.links[link].reachable:
                allowed &= self._not_crossing[link]
        return allowed

    def _priced(self, index: int, request: PlanRequest, weights: Weights, qtype: str
                ) -> tuple[Plan, Prediction]:
        plan = self.candidates.candidates[index].plan
        prediction = self.cost.evaluate(plan, request, weights, qtype)
        return replace(plan, predicted=prediction.forecast(self.graph)), prediction

    def record(self, plan: Plan, measured: Measurement) -> float | None:
        """Learn from one execution of `plan`; the latency's relative prediction error."""
        profile = self.cost.profile
        for stage, seconds in measured.stage_s.items():
            step = next((s for s in plan.steps if s.start <= stage < s.stop), None)
            if step is None:
                raise ValueError(f"stage {stage} is not part of plan {plan.name!r}")
            if stage == self.graph.preprocess:
                profile.observe_preprocess(step.tier, measured.image_mpix, seconds)
            elif stage < self.graph.prefill:
                profile.observe(step.tier, stage, step.precision, seconds)
            elif stage == self.graph.prefill:
                profile.observe(step.tier, stage, Precision.FP32, seconds)
            # decode is learnt per token from decode_tokens / decode_s
        for transfer in measured.transfers:
            self.cost.links[transfer.link].observe_transfer(transfer.payload_bytes,
                                                            transfer.seconds)
        for link in measured.failed:
            self.cost.links[link].observe_failure()
        if measured.overhead_s is not None:
            profile.observe_overhead(measured.overhead_s)
        if measured.decode_tokens > 0:
            profile.observe_decode(plan.lm_tier, measured.batch,
                                   measured.decode_s / measured.decode_tokens)
        if plan.predicted is None or not measured.latency_s > 0:
            return None
        error = abs(plan.predicted.latency_s - measured.latency_s) / measured.latency_s
        self._errors.append(error)
        return error

    @property
    def mape(self) -> float | None:
        """Mean absolute percentage error of predicted latency over recent requests (0.1=10%)."""
        return sum(self._errors) / len(self._errors) if self._errors else None

    def metrics(self) -> dict[str, float]:
        out = {"plan_recorded": float(len(self._errors))}
        if self._errors:
            out["plan_latency_mape"] = self.mape or 0.0
        return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"
