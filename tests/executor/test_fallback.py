"""A planned request whose next tier fails before its first token is answered by the edge's
own LM from what the edge computed (or from its pixels: a cache reference, an earlier cut); a
cascade's failed escalation answers with the edge's draft; a pinned request fails naming the
tier; a next tier that answers is not second-guessed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from splitvlm.cache import FeatureCache
from splitvlm.data.sets import held_out_set
from splitvlm.errors import TierUnavailable
from splitvlm.executor import Event, Executor, Payload, Request, ResultEvent, TokenEvent
from splitvlm.executor.builders import edge_compute
from splitvlm.executor.scripted import ScriptedHop
from splitvlm.plan.named import named_plan, with_cache_ref
from splitvlm.plan.plan import Tier
from splitvlm.wire.codecs import Encoding


async def dead_fog(request: Request) -> AsyncIterator[Event]:
    raise TierUnavailable("fog", "the fog tier did not answer within 3 ms")
    yield


async def live_fog(request: Request) -> AsyncIterator[Event]:
    yield TokenEvent(5, "red")
    yield ResultEvent(tokens=2)


async def run(executor: Executor, plan_name: str, fallback: bool) -> tuple[list[str],
                                                                           ResultEvent]:
    sample = held_out_set(per_type=1)[0]
    pixels = sample.image(executor.graph.image_size)
    plan = named_plan(plan_name.removesuffix("+cache"), executor.graph)
    if plan_name.endswith("+cache"):  # the fog holds the visual tokens: only the key goes
        plan = with_cache_ref(plan, executor.graph)
    request = Request(plan, sample.qa.question, Payload(0, Encoding.IMAGE, image=b"unused"),
                      image_key="k" * 64, pixels=pixels[None], fallback=fallback)
    words, results = [], []
    async for event in executor.execute(request):
        if isinstance(event, TokenEvent):
            words.append(event.text)
        elif isinstance(event, ResultEvent):
            results.append(event)
    assert len(results) == 1
    return words, results[0]


@pytest.mark.parametrize("plan", ["edge-vision+fog-lm", "edge-vision+fog-lm+cache", "split-1",
                                  "cloud-all"])
async def test_a_planned_request_is_answered_by_the_edge_lm(checkpoints: Path,
                                                            plan: str) -> None:
    compute = edge_compute(checkpoints, 1)
    executor = Executor(Tier.EDGE, compute, next_hop=ScriptedHop(dead_fog).next_hop)
    words, result = await run(executor, plan, fallback=True)
    alone, _ = await run(Executor(Tier.EDGE, compute), "edge-only", fallback=False)
    assert words == alone  # the edge LM's answer, from the same pixels
    assert result.fallback is not None and result.fallback.tier == "fog"


async def test_a_cascade_whose_escalation_fails_answers_with_its_draft(
        checkpoints: Path) -> None:
    compute = edge_compute(checkpoints, 1)
    executor = Executor(Tier.EDGE, compute, next_hop=ScriptedHop(dead_fog).next_hop)
    words, result = await run(executor, "cascade-fog@1", fallback=True)  # always escalates
    draft, kept = await run(Executor(Tier.EDGE, compute), "cascade-fog@0", fallback=False)
    assert words == draft and not result.escalated
    assert result.confidence == kept.confidence
    assert result.fallback is not None and result.fallback.tier == "fog"
    with pytest.raises(TierUnavailable):  # pinned: no draft instead
        await run(executor, "cascade-fog@1", fallback=False)


async def test_a_pinned_request_fails_naming_the_tier(checkpoints: Path) -> None:
    executor = Executor(Tier.EDGE, edge_compute(checkpoints, 1),
                        next_hop=ScriptedHop(dead_fog).next_hop)
    with pytest.raises(TierUnavailable, match="the fog tier did not answer"):
        await run(executor, "edge-vision+fog-lm", fallback=False)


async def test_a_live_next_tier_answers(checkpoints: Path) -> None:
    executor = Executor(Tier.EDGE, edge_compute(checkpoints, 1),
                        next_hop=ScriptedHop(live_fog).next_hop)
    words, result = await run(executor, "edge-vision+fog-lm", fallback=True)
    assert words == ["red"] and result.fallback is None


async def test_a_fallback_keeps_and_reuses_the_edges_visual_tokens(checkpoints: Path) -> None:
    """The edge's vision run for a fallback (the plan sent the image up) is kept like any
    other: the same image failing over again runs no second vision."""
    executor = Executor(Tier.EDGE, edge_compute(checkpoints, 1), cache=FeatureCache(1 << 20),
                        next_hop=ScriptedHop(dead_fog).next_hop)
    first, _ = await run(executor, "cloud-all", fallback=True)
    assert executor.vision_runs == 1
    again, _ = await run(executor, "cloud-all", fallback=True)
    assert executor.vision_runs == 1 and again == first
