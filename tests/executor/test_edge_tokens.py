"""The edge keeps the visual tokens it computed: the same image again (a repeated frame, a
second question) runs no vision there, and answers as computing them again does."""

from __future__ import annotations

from pathlib import Path

from splitvlm.data.camera import encode_image
from splitvlm.data.sets import held_out_set
from splitvlm.embedded import embedded_cluster
from splitvlm.plan.plan import Tier
from splitvlm.sdk import AsyncClient


async def test_a_repeated_image_reuses_the_edges_visual_tokens(checkpoints: Path) -> None:
    sample = held_out_set(per_type=1)[0]
    image = encode_image(sample.image(512), "JPEG")
    questions = ["describe the image", "how many circles are there ?"]
    async with embedded_cluster(checkpoints) as cluster, AsyncClient(cluster.edge_target) as c:
        edge = cluster.tier(Tier.EDGE).executor
        first = await c.ask(image, questions[0], plan="edge-only")
        assert edge.vision_runs == 1
        again = [await c.ask(image, q, plan="edge-only") for q in questions]
        by_key = await c.ask(None, questions[1], plan="edge-only", image_key=first.image_key)
        assert edge.vision_runs == 1  # three answers, no second vision run
        assert all(t.name != "patch_embed..project.up" for a in again for t in a.timings)
        fresh = [await c.ask(image, q, plan="edge-only", no_cache=True) for q in questions]
        assert edge.vision_runs == 3  # no_cache: computed again
        assert [a.text for a in again] == [a.text for a in fresh]
        assert by_key.text == fresh[1].text
        assert not any(a.degraded for a in [first, *again, by_key])  # the fog is reachable

