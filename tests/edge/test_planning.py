"""The edge's planner against a scripted downstream: the fog's status seeds the fog's and the
cloud's profiles, loads and the fog-cloud link; an unreachable fog keeps plans on the edge;
what a request measured is learnt (stage times spread over a range, transfers, load)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from edge.planning import EdgePlanner
from splitvlm.errors import TierUnavailable
from splitvlm.executor.messages import Event, LinkTransfer, ResultEvent, StageTiming
from splitvlm.executor.scripted import ScriptedHop
from splitvlm.executor.status import EngineLoad, LinkEstimate, TierStatus
from splitvlm.plan.accuracy import AccuracyTable
from splitvlm.plan.links import Link
from splitvlm.plan.measured import DecodeCost, PreprocessCost, ProfileReport, StageCost
from splitvlm.plan.named import named_plan
from splitvlm.plan.plan import Precision, Tier
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import Preset
from splitvlm.stages import StageGraph

GRAPH = StageGraph(image_size=64, n_tokens=64, vision_dim=128, depth=4, n_visual=9,
                   code_dim=32, visual_dim=128)
ACCURACY = AccuracyTable.uniform({Tier.EDGE: 0.9, Tier.FOG: 0.95, Tier.CLOUD: 0.99})
QUESTION = "how many circles are there ?"


def report(tier: Tier, seconds: float, precisions: tuple[Precision, ...] = (Precision.FP32,)
           ) -> ProfileReport:
    stages = tuple(StageCost(tier, s, p, seconds) for p in precisions
                   for s in range(GRAPH.prefill + 1))
    return ProfileReport(stages, (DecodeCost(tier, 1, seconds),),
                         (PreprocessCost(tier, 0.26, seconds),))


FOG_STATUS = TierStatus(
    Tier.FOG, engine=EngineLoad(queued=2, running=3),
    profile=report(Tier.FOG, 1e-3).merged(report(Tier.CLOUD, 1e-4)),
    downstream=TierStatus(Tier.CLOUD, engine=EngineLoad(queued=5, running=7)),
    next_link=LinkEstimate(1e9, 1e-3))


async def never(request: object) -> AsyncIterator[Event]:
    raise AssertionError("the planner never executes")
    yield


async def planner(status: TierStatus | None, link: LinkEstimate | None) -> EdgePlanner:
    hop = ScriptedHop(never, status, link)  # type: ignore[arg-type]
    return await EdgePlanner.create(GRAPH, report(Tier.EDGE, 5e-3, (Precision.FP32,
                                                                   Precision.INT8)),
                                    ACCURACY, hop, Precision.INT8)


async def test_the_fogs_status_seeds_profiles_loads_and_links() -> None:
    p = await planner(FOG_STATUS, LinkEstimate(1e8, 2e-3))
    profile, load = p.planner.cost.profile, p.planner.cost.load
    assert profile.stage_s(Tier.FOG, 3) == 1e-3 and profile.stage_s(Tier.CLOUD, 3) == 1e-4
    assert profile.prefill_s(Tier.CLOUD) == 1e-4
    assert (load.load(Tier.FOG).queue_depth, load.load(Tier.FOG).active) == (2, 3)
    assert (load.load(Tier.CLOUD).queue_depth, load.load(Tier.CLOUD).active) == (5, 7)
    assert p.links[Link.EDGE_FOG].bandwidth_bps == pytest.approx(1e8)
    assert p.links[Link.FOG_CLOUD].bandwidth_bps == pytest.approx(1e9)
    plan, why = p.choose("auto", QUESTION, frozenset(), Preset.MOST_ACCURATE, 40_000, 4_000,
                         30.0, False)
    assert plan.lm_tier is Tier.CLOUD and "qtype count" in why  # 0.99 and cheap to reach
    offline, _ = p.choose("auto", QUESTION, frozenset({Policy.OFFLINE}), None, 40_000, 4_000,
                          30.0, False)
    assert offline.lm_tier is Tier.EDGE and len(offline.steps) == 1


async def test_an_unreachable_fog_keeps_plans_on_the_edge() -> None:
    p = await planner(None, None)
    assert not p.links[Link.EDGE_FOG].reachable
    plan, _ = p.choose("auto", QUESTION, frozenset(), Preset.MOST_ACCURATE, 40_000, 4_000,
                       30.0, False)
    assert plan.lm_tier is Tier.EDGE
    with pytest.raises(TierUnavailable, match="the fog tier is unreachable, and plan fog-all"):
        p.choose("fog-all", QUESTION, frozenset(), None, 40_000, 4_000, 30.0, False)
    named, why = p.choose("edge-only", QUESTION, frozenset(), None, 40_000, 4_000, 30.0, False)
    assert why.startswith("fixed plan edge-only")


async def test_a_measured_request_is_learnt() -> None:
    p = await planner(FOG_STATUS, LinkEstimate(1e8, 2e-3))
    plan, _ = p.choose("edge-vision+fog-lm", QUESTION, frozenset(), None, 40_000, 4_000, 30.0,
                       False)
    before = p.planner.cost.profile.stage_s(Tier.EDGE, GRAPH.patch_embed, Precision.INT8)
    result = ResultEvent(
        [StageTiming(Tier.EDGE, GRAPH.patch_embed, GRAPH.prefill, 0.042),  # 7 stages, 6 ms each
         StageTiming(Tier.FOG, GRAPH.prefill, GRAPH.n_stages, 0.05)],
        [LinkTransfer(Link.EDGE_FOG, 2_400, 0.004)], 0.06,
        TierStatus(Tier.FOG, engine=EngineLoad(queued=9, running=4)), None, 3)
    p.record(plan, result, 0.8)
    after = p.planner.cost.profile.stage_s(Tier.EDGE, GRAPH.patch_embed, Precision.INT8)
    assert before is not None and after == pytest.approx(0.8 * before + 0.2 * 0.006)
    fog = p.planner.cost.load.load(Tier.FOG)
    assert (fog.queue_depth, fog.active) == (9, 4)  # the answering tier's load, as reported
    assert p.planner.cost.profile.overhead_s == pytest.approx(0.8 - 0.092 - 0.004)


async def test_a_suspected_fog_is_planned_around_only_if_its_status_fails() -> None:
    """Silent past the short fallback budget only: a live fog answers its Status and stays;
    one that does not is planned around, and seen again by the background refresh."""
    import asyncio

    from edge.planning import VERIFY_S

    live = await planner(FOG_STATUS, LinkEstimate(1e9, 1e-3))
    live.unreachable(Tier.FOG, suspected=True)
    await asyncio.sleep(2 * VERIFY_S)
    assert live.links[Link.EDGE_FOG].reachable
    await live.close()

    hop = ScriptedHop(never, FOG_STATUS, LinkEstimate(1e9, 1e-3))  # type: ignore[arg-type]
    gone = await EdgePlanner.create(GRAPH, report(Tier.EDGE, 5e-3, (Precision.FP32,
                                                                    Precision.INT8)),
                                    ACCURACY, hop, Precision.INT8)
    hop._status = None  # the fog stops answering
    gone.unreachable(Tier.FOG, suspected=True)
    await asyncio.sleep(2 * VERIFY_S)
    assert not gone.links[Link.EDGE_FOG].reachable
    hop._status = FOG_STATUS  # back: the half-open refresh sees it without a request
    await asyncio.sleep(1.5)
    assert gone.links[Link.EDGE_FOG].reachable
    await gone.close()


async def test_a_tier_serving_another_visual_model_is_planned_around(
        caplog: pytest.LogCaptureFixture) -> None:
    other = replace(FOG_STATUS, visual_version="hf-llava-other")
    hop = ScriptedHop(never, other, LinkEstimate(1e9, 1e-3))  # type: ignore[arg-type]
    mixed = await EdgePlanner.create(GRAPH, report(Tier.EDGE, 5e-3, (Precision.FP32,
                                                                     Precision.INT8)),
                                     ACCURACY, hop, Precision.INT8, visual_version="ours")
    assert not mixed.links[Link.EDGE_FOG].reachable
    assert "every tier must serve the same model" in caplog.text
    with pytest.raises(TierUnavailable):
        mixed.choose("edge-vision+fog-lm", "how many circles are there ?", frozenset(), None,
                     1000, 900, 1.0, False)
    await mixed.close()
    same = await EdgePlanner.create(GRAPH, report(Tier.EDGE, 5e-3, (Precision.FP32,
                                                                    Precision.INT8)),
                                    ACCURACY, ScriptedHop(never, replace(  # type: ignore[arg-type]
                                        FOG_STATUS, visual_version="ours"),
                                        LinkEstimate(1e9, 1e-3)), Precision.INT8,
                                    visual_version="ours")
    assert same.links[Link.EDGE_FOG].reachable
    await same.close()


async def test_free_text_answers_teach_their_length_and_typed_ones_do_not() -> None:
    p = await planner(FOG_STATUS, LinkEstimate(1e8, 2e-3))
    free, typed = "What is happening in this picture?", "how many circles are there ?"

    def predicted(question: str) -> float:
        plan, _ = p.choose("", question, frozenset(), None, 20_000, 9_000, 1.0, False)
        assert plan.predicted is not None
        return plan.predicted.latency_s

    gap = predicted(free) - predicted(typed)  # 4 tokens (ANSWER_TOKENS[unknown]) vs 2
    answer = ResultEvent([StageTiming(Tier.EDGE, 0, GRAPH.n_stages, 0.05)], [], 0.05,
                         TierStatus(Tier.EDGE), None, 20)
    for question in (free, typed) * 4:  # the typed answers teach nothing: ANSWER_TOKENS
        p.record(named_plan("edge-only", GRAPH), answer, 0.06, None, question)
    assert p.free_text_tokens.value == pytest.approx(20, rel=0.05)
    assert predicted(free) - predicted(typed) > 4 * gap > 0  # 20 tokens vs 2 now
    await p.close()
