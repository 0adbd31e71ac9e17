"""Cascades in the executor: a confident edge answer streams; an unsure one is dropped and the
visual tokens go up, so the caller gets the upstream LM's tokens and never the edge's draft."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from splitvlm.data.camera import encode_image
from splitvlm.data.sets import held_out_set
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.embedded import embedded_cluster
from splitvlm.executor import (
    Event,
    Executor,
    Payload,
    Request,
    ResultEvent,
    TokenEvent,
)
from splitvlm.executor.builders import edge_compute
from splitvlm.executor.scripted import ScriptedHop
from splitvlm.plan.named import cascade, named_plan
from splitvlm.plan.plan import Precision, Tier
from splitvlm.sdk import AsyncClient
from splitvlm.wire import decode
from splitvlm.wire.codecs import Encoding

UPSTREAM_WORDS = ("purple", "triangle")  # what the scripted upstream tier always answers


async def upstream_answer(request: Request) -> AsyncIterator[Event]:
    """A next tier that answers every request with UPSTREAM_WORDS."""
    tok = Tokenizer()
    for word in UPSTREAM_WORDS:
        yield TokenEvent(tok.encode(word)[0], word)
    yield ResultEvent(tokens=len(UPSTREAM_WORDS) + 1)


async def _run(executor: Executor, threshold: float, question: str, pixels: np.ndarray
               ) -> tuple[list[str], ResultEvent]:
    plan = cascade(Tier.FOG, threshold, Precision.INT8, executor.graph, Encoding.INT8)
    request = Request(plan, question, Payload(0, Encoding.IMAGE, image=b"unused"),
                      pixels=pixels[None])
    words, result = [], None
    async for event in executor.execute(request):
        if isinstance(event, TokenEvent):
            words.append(event.text)
        elif isinstance(event, ResultEvent):
            result = event
    assert result is not None
    return words, result


async def test_unsure_answers_escalate_with_the_visual_tokens_and_drop_the_draft(
        checkpoints: Path) -> None:
    upstream = ScriptedHop(upstream_answer)
    executor = Executor(Tier.EDGE, edge_compute(checkpoints, 1), next_hop=upstream.next_hop)
    sample = held_out_set(per_type=1)[0]
    pixels = sample.image(executor.graph.image_size)
    draft, confident = await _run(executor, 0.0, sample.qa.question, pixels)  # never escalates
    assert not confident.escalated and confident.confidence is not None
    assert 0.0 < confident.confidence <= 1.0
    assert upstream.received == []
    words, escalated = await _run(executor, 1.0, sample.qa.question, pixels)  # always
    assert words == list(UPSTREAM_WORDS) and words != draft  # the draft never streams
    assert escalated.escalated and escalated.confidence == pytest.approx(confident.confidence)
    sent = upstream.received[0]
    assert sent.plan.steps[-1].tier is Tier.FOG and sent.plan.escalation is None
    assert sent.payload.cut == executor.graph.prefill and sent.payload.tensor is not None
    assert sent.payload.encoding is Encoding.INT8
    visual = decode(sent.payload.tensor)  # the edge's own visual tokens, as int8
    assert visual.shape == (1, executor.graph.n_visual, executor.graph.visual_dim)


async def test_an_escalated_cascade_answers_as_the_fixed_plan_to_that_lm(
        checkpoints: Path) -> None:
    samples = held_out_set(per_type=2)
    async with embedded_cluster(checkpoints) as cluster, AsyncClient(cluster.edge_target) as c:
        for sample in samples[::3]:
            image = encode_image(sample.image(512), "JPEG")
            fixed = await c.ask(image, sample.qa.question, plan="edge-vision+cloud-lm")
            up = await c.ask(image, sample.qa.question, plan="cascade-cloud@1")
            assert up.escalated and up.edge_confidence is not None
            assert up.text == fixed.text
            kept = await c.ask(image, sample.qa.question, plan="cascade-cloud@0")
            edge = await c.ask(image, sample.qa.question, plan="edge-only")
            assert not kept.escalated and kept.text == edge.text


def test_named_cascades_parse_and_validate(checkpoints: Path) -> None:
    from splitvlm.executor.builders import visual_meta

    graph, _ = visual_meta(checkpoints)
    plan = named_plan("cascade-fog@0.75", graph)
    assert plan.escalation is not None and plan.escalation.threshold == 0.75
    assert plan.escalated(graph).describe(graph).endswith("-fp16-> fog[prefill..decode]")
    with pytest.raises(ValueError, match="0..1"):
        named_plan("cascade-fog@1.5", graph)
