"""Every plan the planner considers for a stage graph, and what each one pays for.

A candidate is: the edge runs stages [0, c) (int8 or fp32 vision when c >= 2), optionally the
fog runs [c, f), and the LM tier (edge, fog or cloud) runs the rest, prefill and decode
together. Each hand-off carries the boundary tensor in every encoding that can hold it:

    cut 0 -> IMAGE    cut 1 -> PNG    tokens / codes / visual -> FP32, FP16, INT8, INT8_LZ4

plus `edge[0:P] -cache_ref-> fog` when the fog caches the visual tokens (the edge then skips
its stages and sends the content hash). For the default graph (10 stages) that is 848 plans.

The structure is built once per graph. Each candidate is also a list of `Item`s (a stage on a
tier at a precision, a wait at a tier, a payload on a link, ...): per request the cost model
prices the items, and a candidate's latency or objective is the sum over its items: one numpy
gather over the padded (max_items, n_candidates) index matrix re-prices them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from splitvlm.plan.plan import Link, Plan, Precision, Step, Tier, crossed
from splitvlm.stages import BoundaryKind, StageGraph
from splitvlm.wire.codecs import PLANNED_ENCODINGS, Encoding


class ItemKind(IntEnum):
    COMPUTE = 0  # one execution of `stage` on `tier` at `precision` (prefill included)
    DECODE = 1  # the answer's tokens decoded on `tier`
    WAIT = 2  # queueing at `tier`
    TRANSFER = 3  # the payload at `cut` in `encoding` crossing `link`
    ACCURACY = 4  # the expected accuracy of `tier`'s LM on `precision` visual tokens


@dataclass(frozen=True)
class Item:
    kind: ItemKind
    tier: Tier = Tier.EDGE
    stage: int = -1
    precision: Precision = Precision.FP32
    link: Link = Link.EDGE_FOG
    cut: int = -1
    encoding: Encoding = Encoding.FP32


@dataclass(frozen=True)
class Candidate:
    plan: Plan  # named, `predicted` empty
    items: tuple[Item, ...]
    visual_precision: Precision  # of the vision stages that produced the visual tokens
    links: frozenset[Link]  # links its hand-offs cross
    pixels_leave_edge: bool  # an IMAGE or PNG hand-off
    cache_ref: bool


def encodings_at(graph: StageGraph, cut: int,
                 tensors: tuple[Encoding, ...] = PLANNED_ENCODINGS) -> tuple[Encoding, ...]:
    """Encodings of a hand-off at `cut` (CACHE_REF aside: it depends on the request): the
    image, the pixels as PNG, or one of `tensors` (the planner's: those planned)."""
    kind = graph.boundary(cut).kind
    if kind is BoundaryKind.IMAGE:
        return (Encoding.IMAGE,)
    if kind is BoundaryKind.PIXELS:
        return (Encoding.PNG,)
    return tensors


def edge_precisions(graph: StageGraph, stop: int) -> tuple[Precision, ...]:
    """An edge step that runs patch_embed may run int8 vision."""
    runs_vision = stop > graph.patch_embed
    return (Precision.FP32, Precision.INT8) if runs_vision else (Precision.FP32,)


def plan_name(plan: Plan) -> str:
    """'edge[0:6]int8 -int8-> cloud', 'edge[0:2] -fp16-> fog[2:6] -int8-> cloud'."""
    parts = []
    for i, step in enumerate(plan.steps):
        is_lm = i == len(plan.steps) - 1
        label = str(step.tier) if is_lm and i else f"{step.tier}[{step.start}:{step.stop}]"
        parts.append(label + ("int8" if step.precision is Precision.INT8 else ""))
        if not is_lm:
            parts.append(f"-{plan.encodings[i]}->")
    return " ".join(parts)


def enumerate_plans(graph: StageGraph) -> Iterator[Plan]:
    """Every candidate plan of `graph` (CACHE_REF included), named."""
    n, p = graph.n_stages, graph.prefill

    def named(steps: tuple[Step, ...], encodings: tuple[Encoding, ...]) -> Plan:
        plan = Plan(steps, encodings)
        return Plan(steps, encodings, plan_name(plan))

    for precision in edge_precisions(graph, n):
        yield named((Step(Tier.EDGE, 0, n, precision),), ())
    for lm in (Tier.FOG, Tier.CLOUD):
        for c in graph.cuts:
            for precision in edge_precisions(graph, c):
                for enc in encodings_at(graph, c):
                    yield named((Step(Tier.EDGE, 0, c, precision), Step(lm, c, n)), (enc,))
    yield named((Step(Tier.EDGE, 0, p), Step(Tier.FOG, p, n)), (Encoding.CACHE_REF,))
    for c in range(p):
        for f in range(c + 1, p + 1):
            for precision in edge_precisions(graph, c):
                for enc1 in encodings_at(graph, c):
                    for enc2 in encodings_at(graph, f):
                        steps = (Step(Tier.EDGE, 0, c, precision), Step(Tier.FOG, c, f),
                                 Step(Tier.CLOUD, f, n))
                        yield named(steps, (enc1, enc2))


def plan_items(graph: StageGraph, plan: Plan) -> tuple[Item, ...]:
    """What `plan` pays for: stage runs, waits, decode, transfers; and the accuracy it earns."""
    items: list[Item] = []
    last = len(plan.steps) - 1
    cached = bool(plan.encodings) and plan.encodings[0] is Encoding.CACHE_REF
    for i, step in enumerate(plan.steps):
        skipped = cached and i == 0
        stop = min(step.stop, graph.prefill)
        if not skipped:
            items += [Item(ItemKind.COMPUTE, step.tier, s, step.precision)
                      for s in range(step.start, stop)]
        if i == last:
            items += [Item(ItemKind.COMPUTE, step.tier, graph.prefill),
                      Item(ItemKind.DECODE, step.tier)]
        if not skipped and (step.start < stop or i == last):
            items.append(Item(ItemKind.WAIT, step.tier))
    for i, enc in enumerate(plan.encodings):
        for link in crossed(plan.steps[i].tier, plan.steps[i + 1].tier):
            items.append(Item(ItemKind.TRANSFER, link=link, cut=plan.cut(i), encoding=enc))
    items.append(Item(ItemKind.ACCURACY, plan.lm_tier, precision=visual_precision(plan)))
    return tuple(items)


def visual_precision(plan: Plan) -> Precision:
    edge = plan.steps[0]
    cached = bool(plan.encodings) and plan.encodings[0] is Encoding.CACHE_REF
    return edge.precision if edge.stop >= 2 and not cached else Precision.FP32


class CandidateSet:
    """The candidates of one graph, their items, and boolean masks of their properties."""

    def __init__(self, graph: StageGraph) -> None:
        self.graph = graph
        self.candidates = tuple(self._candidate(plan) for plan in enumerate_plans(graph))
        index: dict[Item, int] = {}
        for cand in self.candidates:
            for item in cand.items:
                index.setdefault(item, len(index))
        self.items: tuple[Item, ...] = tuple(index)
        # (max_items, n_candidates) indices into the items, one column per candidate (so the
        # sum runs over contiguous rows); padding points one past the last item, where price
        # vectors hold 0. A candidate's total: price[self.gather].sum(axis=0).
        width = max(len(c.items) for c in self.candidates)
        self.gather = np.full((width, len(self.candidates)), len(self.items), dtype=np.intp)
        for col, cand in enumerate(self.candidates):
            self.gather[:len(cand.items), col] = [index[item] for item in cand.items]
        # Boolean masks over the candidates, for the per-request constraints.
        self.pixels_leave_edge = np.array([c.pixels_leave_edge for c in self.candidates])
        self.edge_only = np.array([c.plan.lm_tier is Tier.EDGE for c in self.candidates])
        self.cache_ref = np.array([c.cache_ref for c in self.candidates])
        self.crosses = {link: np.array([link in c.links for c in self.candidates])
                        for link in Link}

    def __len__(self) -> int:
        return len(self.candidates)

    def _candidate(self, plan: Plan) -> Candidate:
        plan.validate(self.graph)
        return Candidate(
            plan=plan,
            items=plan_items(self.graph, plan),
            visual_precision=visual_precision(plan),
            links=frozenset(link for i in range(len(plan.encodings))
                            for link in crossed(plan.steps[i].tier, plan.steps[i + 1].tier)),
            pixels_leave_edge=any(e.is_pixels for e in plan.encodings),
            cache_ref=Encoding.CACHE_REF in plan.encodings,
        )
