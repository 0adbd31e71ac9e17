"""The SDK as a new user meets it, against three real tiers: typed events, AsyncClient with
everything Client has, questions as people type them, one policy as one string, any array."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from splitvlm.data.camera import decode_image
from splitvlm.embedded import Cluster, embedded_cluster
from splitvlm.sdk import (
    AnswerEvent,
    AskOptions,
    AsyncClient,
    ImageNotHeld,
    PlanEvent,
    QuestionError,
    TokenEvent,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scene-0.jpg"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(checkpoints: Path) -> AsyncIterator[Cluster]:
    async with embedded_cluster(checkpoints) as running:
        yield running


@pytest.mark.asyncio(loop_scope="module")
async def test_stream_tokens_ask_and_a_session_agree(cluster: Cluster) -> None:
    image = EXAMPLE.read_bytes()
    async with AsyncClient(cluster.edge_target) as client:
        events = [e async for e in client.stream(image, "describe the image", plan="edge-only")]
        words = [w async for w in client.tokens(image, "describe the image", plan="edge-only")]
        answer = await client.ask(image, "describe the image", AskOptions(plan="edge-only"))
        chat = client.session(image)
        first = await chat.ask("describe the image", plan="edge-only")
        second = await chat.ask("describe the image", plan="edge-only")
    assert isinstance(events[0], PlanEvent) and isinstance(events[-1], AnswerEvent)
    assert [e.text for e in events if isinstance(e, TokenEvent)] == words
    assert " ".join(words) == answer.text == first.text == second.text
    assert chat.turns == 2 and chat.image_key == first.image_key == answer.image_key


@pytest.mark.asyncio(loop_scope="module")
async def test_questions_as_typed_one_policy_string_and_a_grayscale_array(
        cluster: Cluster) -> None:
    pixels = decode_image(EXAMPLE.read_bytes())
    gray = pixels.mean(axis=2).astype(np.uint8)  # (H, W)
    async with AsyncClient(cluster.edge_target) as client:
        typed = await client.ask(pixels, "How many circles are there?", policy="offline")
        canonical = await client.ask(pixels, "how many circles are there ?", policy="offline")
        caption = await client.ask(pixels, "Describe the image.", policy="offline")
        await client.ask(gray, "describe the image", policy="offline")
    assert typed.text == canonical.text and caption.text
    assert typed.plan.lm_tier.value == "edge" and not typed.links  # offline: nothing left
    with pytest.raises(QuestionError, match=r"unknown word\(s\) \['colour'\].*questions.md"):
        async with AsyncClient(cluster.edge_target) as client:
            await client.ask(pixels, "what colour is the circle ?")


@pytest.mark.asyncio(loop_scope="module")
async def test_an_unknown_key_is_image_not_held_and_a_session_resends(
        cluster: Cluster) -> None:
    async with AsyncClient(cluster.edge_target) as client:
        with pytest.raises(ImageNotHeld, match="send the image again"):
            await client.ask(None, "describe the image", image_key="0" * 32)
        chat = client.session(EXAMPLE.read_bytes())
        chat.image_key = "0" * 32  # as if the edge had evicted it
        answer = await chat.ask("describe the image", plan="edge-only")
    assert answer.text and chat.image_key == answer.image_key != "0" * 32
