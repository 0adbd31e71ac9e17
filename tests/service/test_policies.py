"""Policies through real tiers: a named plan, a cascade and the planner's choice all keep to
the request's policy; a plan that would break it is refused before it is announced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from splitvlm.embedded import Cluster, embedded_cluster
from splitvlm.plan.plan import Tier
from splitvlm.sdk import AsyncClient, PolicyViolation

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scene-0.jpg"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(checkpoints: Path) -> AsyncIterator[Cluster]:
    async with embedded_cluster(checkpoints) as running:
        yield running


@pytest.mark.parametrize(("plan", "policy", "message"), [
    ("cloud-all", "pixels_stay_on_edge", "sends the image (image) from the edge tier"),
    ("fog-all", "pixels_stay_on_edge", "sends the pixels (png)"),
    ("cloud-all", "offline", "hands off to the cloud tier"),
    ("edge-vision+fog-lm", "offline", "hands off to the fog tier"),
    ("cascade-cloud@1", "offline", "escalates to the cloud tier"),
])
async def test_a_plan_against_the_policy_is_refused_before_it_is_announced(
        cluster: Cluster, plan: str, policy: str, message: str) -> None:
    runs = cluster.tier(Tier.EDGE).executor.vision_runs
    async with AsyncClient(cluster.edge_target) as client:
        events = []
        with pytest.raises(PolicyViolation, match=message.replace("(", r"\(").replace(")", r"\)")):
            async for event in client.stream(EXAMPLE.read_bytes(), "describe the image",
                                             plan=plan, policy=policy, no_cache=True):
                events.append(event)
    assert events == []  # not even the plan: nothing ran
    assert cluster.tier(Tier.EDGE).executor.vision_runs == runs


@pytest.mark.parametrize("policy", ["pixels_stay_on_edge", "offline"])
async def test_allowed_plans_keep_to_the_policy(cluster: Cluster, policy: str) -> None:
    async with AsyncClient(cluster.edge_target) as client:
        for plan in ("auto", "auto:fixed", "edge-only", "cascade-fog@1", "edge-vision+fog-lm"):
            try:
                answer = await client.ask(EXAMPLE.read_bytes(), "describe the image",
                                          plan=plan, policy=policy, no_cache=True)
            except PolicyViolation:
                assert policy == "offline" and plan in ("cascade-fog@1", "edge-vision+fog-lm")
                continue
            sent = answer.bytes_per_link
            if policy == "offline":
                assert not answer.links and answer.plan.lm_tier is Tier.EDGE
            assert all(not e.is_pixels for e in answer.plan.encodings), (plan, sent)
            assert answer.text
