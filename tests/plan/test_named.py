"""`cut-C@TIER[:ENCODING]`: any cut pinned, with the LM tier and the boundary's encoding."""

from __future__ import annotations

import pytest

from splitvlm.errors import PlanError
from splitvlm.plan.named import named_plan
from splitvlm.plan.plan import Tier
from splitvlm.stages import StageGraph
from splitvlm.wire.codecs import Encoding

GRAPH = StageGraph(image_size=56, n_tokens=17, vision_dim=32, depth=2, n_visual=16,
                   code_dim=32, visual_dim=64)


@pytest.mark.parametrize(("name", "cut", "tier", "encoding"), [
    ("cut-0@fog", 0, Tier.FOG, Encoding.IMAGE),
    ("cut-1@cloud", 1, Tier.CLOUD, Encoding.PNG),
    ("cut-3@fog", 3, Tier.FOG, Encoding.FP16),
    ("cut-6@cloud:int8", 6, Tier.CLOUD, Encoding.INT8),
])
def test_cut_plans(name: str, cut: int, tier: Tier, encoding: Encoding) -> None:
    plan = named_plan(name, GRAPH)
    assert plan.cut(0) == cut and plan.lm_tier is tier and plan.encodings == (encoding,)
    assert plan.steps[-1].stop == GRAPH.n_stages


@pytest.mark.parametrize(("name", "message"), [
    ("cut-7@fog", "out of range; cuts are 0..6"),
    ("cut-2@fog:png", "png cannot carry"),
    ("cut-2@fog:zip", "unknown encoding 'zip'"),
    ("cut-2@edge", "unknown plan"),
])
def test_bad_cut_plans_say_why(name: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        named_plan(name, GRAPH)
