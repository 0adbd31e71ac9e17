"""Pricing cascades beside the fixed plans.

A cascade to upstream tier u at threshold t (the preset's, from the calibration) runs the
edge-only plan, and with probability P = P(escalate | question type) also sends the visual
tokens to u's LM. With E the edge-only plan's prediction and F the fixed plan "edge INT8
vision -> u's LM" (its cheapest allowed hand-off encoding, which the cascade then uses):

    latency  = E.latency + P x (F's steps after the edge + F's links)
    energy   = E.energy  + P x F's radio energy (the edge computes nothing more)
    accuracy = the calibration's cascade accuracy for the question type at t

The deadline is checked against the escalated latency (E.latency + F's upstream part): a
deadline holds for every request, not on average.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from splitvlm.plan.calibration import UPSTREAM, Calibration
from splitvlm.plan.candidates import CandidateSet
from splitvlm.plan.cost import CostModel, Prediction
from splitvlm.plan.named import cascade
from splitvlm.plan.plan import Link, Plan, Precision, Tier
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import Weights
from splitvlm.plan.request import PlanRequest
from splitvlm.wire.codecs import Encoding


class CascadePricer:
    def __init__(self, cost: CostModel, candidates: CandidateSet, calibration: Calibration,
                 edge_precision: Precision = Precision.INT8) -> None:
        self.cost, self.calibration = cost, calibration
        graph = cost.graph
        self.edge_precision = edge_precision
        plans = [c.plan for c in candidates.candidates]
        self._edge_only = next(i for i, p in enumerate(plans) if len(p.steps) == 1
                               and p.steps[0].precision is edge_precision)
        self._upstream = {u: np.array([
            i for i, p in enumerate(plans) if len(p.steps) == 2
            and p.steps[0].stop == graph.prefill and p.steps[0].precision is edge_precision
            and p.steps[1].tier is u and p.encodings[0].is_tensor], dtype=np.intp)
            for u in UPSTREAM}
        self._plans = plans

    def options(self, request: PlanRequest, weights: Weights, qtype: str, preset: str,
                latency: np.ndarray, allowed: np.ndarray) -> list[tuple[Plan, Prediction, float]]:
        """(cascade plan, its prediction, its escalated latency) for each upstream tier the
        request may use; empty when the preset has no threshold or the edge may not answer."""
        if Policy.OFFLINE in request.policy or not allowed[self._edge_only]:
            return []
        edge = self.cost.evaluate(self._plans[self._edge_only], request, weights, qtype)
        out = []
        for u in UPSTREAM:
            threshold = self.calibration.threshold(preset, u)
            ok = self._upstream[u][allowed[self._upstream[u]]]
            if threshold is None or not len(ok):
                continue
            best = int(ok[np.argmin(latency[ok])])
            fixed = self._plans[best]
            up = self.cost.evaluate(fixed, request, weights, qtype)
            plan, prediction, worst = self._price(edge, up, u, fixed.encodings[0], threshold,
                                                  weights, qtype)
            out.append((plan, prediction, worst))
        return out

    def _price(self, edge: Prediction, up: Prediction, tier: Tier, encoding: Encoding,
               threshold: float, weights: Weights, qtype: str) -> tuple[Plan, Prediction, float]:
        p = self.calibration.p_escalate(tier, qtype, threshold)
        accuracy = self.calibration.accuracy(tier, qtype, threshold)
        up_s = sum(s.total_s for s in up.steps[1:]) + sum(h.seconds for h in up.links)
        airtime = sum(h.seconds for h in up.links if h.link is Link.EDGE_FOG)
        latency = edge.latency_s + p * up_s
        energy = edge.energy_j + p * airtime * self.cost.config.edge_radio_w
        objective = (weights.latency * latency + weights.energy * energy
                     - weights.accuracy * accuracy)
        prediction = Prediction(latency, energy, accuracy, objective, edge.edge_compute_s,
                                p * up.edge_bytes, edge.steps + up.steps[1:], up.links,
                                edge.overhead_s, (accuracy, accuracy), p,
                                edge.latency_s + up_s)
        plan = cascade(tier, threshold, self.edge_precision, self.cost.graph, encoding,
                       name=f"cascade-{tier}")
        return (replace(plan, predicted=prediction.forecast(self.cost.graph)), prediction,
                edge.latency_s + up_s)
