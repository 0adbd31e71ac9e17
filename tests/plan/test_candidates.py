from __future__ import annotations

from splitvlm.plan.candidates import CandidateSet, plan_name
from splitvlm.plan.plan import Precision, Tier
from splitvlm.stages import StageGraph
from splitvlm.wire.codecs import Encoding

from .oracle import all_plans


def test_candidates_are_exactly_the_independently_enumerated_plans(
        graph: StageGraph, candidates: CandidateSet) -> None:
    ours = [(c.plan.steps, c.plan.encodings) for c in candidates.candidates]
    assert len(ours) == len(set(ours)) == 848
    assert set(ours) == all_plans(graph)


def test_every_candidate_validates_and_has_a_unique_readable_name(
        graph: StageGraph, candidates: CandidateSet) -> None:
    names = [c.plan.name for c in candidates.candidates]
    assert len(set(names)) == len(names)
    for cand in candidates.candidates:
        cand.plan.validate(graph)
        assert cand.plan.name == plan_name(cand.plan)
    assert "edge[0:6]int8 -int8-> cloud" in names
    assert "edge[0:8] -cache_ref-> fog" in names
    assert "edge[0:2] -fp16-> fog[2:6] -int8_lz4-> cloud" in names
    assert "edge[0:10]int8" in names


def test_masks_and_items_describe_each_candidate(candidates: CandidateSet) -> None:
    for row, cand in enumerate(candidates.candidates):
        plan = cand.plan
        assert candidates.edge_only[row] == (len(plan.steps) == 1)
        assert candidates.pixels_leave_edge[row] == any(
            e in (Encoding.IMAGE, Encoding.PNG) for e in plan.encodings)
        assert candidates.cache_ref[row] == (Encoding.CACHE_REF in plan.encodings)
        cols = [c for c in candidates.gather[:, row] if c < len(candidates.items)]
        assert [candidates.items[c] for c in cols] == list(cand.items)
        if plan.steps[0].precision is Precision.INT8:
            assert cand.visual_precision is Precision.INT8
        assert cand.plan.lm_tier in Tier


def test_a_smaller_graph_matches_the_oracle_too() -> None:
    graph = StageGraph(image_size=32, n_tokens=16, vision_dim=64, depth=2, n_visual=4,
                       code_dim=16, visual_dim=64)
    cands = CandidateSet(graph).candidates
    assert {(c.plan.steps, c.plan.encodings) for c in cands} == all_plans(graph)
