"""Cache references end to end: hit turns send only the key, an evicted key is re-sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from splitvlm.data.camera import encode_image
from splitvlm.data.sets import held_out_set
from splitvlm.embedded import Cluster, embedded_cluster
from splitvlm.executor.status import TierStatus
from splitvlm.plan.plan import Tier
from splitvlm.sdk import AsyncClient

PLAN = "edge-vision+fog-lm"
ONE_ENTRY_BYTES = 3000  # an fp16 entry of 9 x 128 visual tokens is 2304 bytes: one fits


async def status(cluster: Cluster, tier: str) -> TierStatus:
    return cluster.tier(Tier(tier)).executor.status()


def images(n: int) -> list[bytes]:
    return [encode_image(s.image(512), "JPEG") for s in held_out_set(per_type=1)[:n]]


async def test_hit_turns_send_only_the_key_and_run_no_vision(checkpoints: Path) -> None:
    image = images(1)[0]
    questions = ["describe the image", "how many circles are there ?",
                 "is there a red square ?", "how many blue objects are there ?"]
    async with embedded_cluster(checkpoints) as cluster, AsyncClient(cluster.edge_target) as c:
        first = await c.ask(image, questions[0], plan=PLAN)
        runs = (await status(cluster, "edge")).vision_runs
        reference = [await c.ask(image, q, plan=PLAN, no_cache=True) for q in questions[1:]]
        assert (await status(cluster, "edge")).vision_runs == runs + len(questions) - 1
        runs += len(questions) - 1
        for question, ref in zip(questions[1:], reference, strict=True):
            hit = await c.ask(None, question, plan=PLAN, image_key=first.image_key)
            assert hit.plan.encodings[0].value == "cache_ref"
            assert hit.bytes_per_link["edge-fog"] <= 200 + len(question)
            assert hit.text == ref.text  # the cached tokens answer as the recomputed ones
        assert (await status(cluster, "edge")).vision_runs == runs  # no vision on hits
        assert (await status(cluster, "fog")).cache.hits > 0


async def test_evicted_reference_is_resent_and_still_answers(checkpoints: Path) -> None:
    a, b = images(2)
    question = "describe the image"
    async with embedded_cluster(checkpoints, cache_bytes=ONE_ENTRY_BYTES) as cluster, \
            AsyncClient(cluster.edge_target) as c:
        first = await c.ask(a, question, plan=PLAN)  # the fog caches a's tokens
        await c.ask(b, question, plan=PLAN)  # ... and evicts them for b's
        again = await c.ask(None, question, plan=PLAN, image_key=first.image_key)
        assert again.text == first.text
        assert again.plan.encodings[0].value == "fp16"  # re-sent as a tensor after the miss
        assert "cache miss" in again.explanation
        assert again.bytes_per_link["edge-fog"] > 2000
        once_more = await c.ask(None, question, plan=PLAN, image_key=first.image_key)
        assert once_more.plan.encodings[0].value == "cache_ref"  # held again


async def test_unknown_key_asks_for_the_image(checkpoints: Path) -> None:
    from splitvlm.sdk import ImageNotHeld

    async with embedded_cluster(checkpoints) as cluster, AsyncClient(cluster.edge_target) as c:
        with pytest.raises(ImageNotHeld, match="send the image again"):
            await c.ask(None, "describe the image", image_key="0" * 32)
