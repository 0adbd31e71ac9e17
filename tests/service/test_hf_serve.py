"""A Hugging Face VLM served by the three tiers over loopback gRPC (`serve --model DIR`), asked
through the SDK in free text: the planner's choice, named plans at the fog's and the cloud's
LM, and feature-cache references all answer with `transformers`' own tokens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from splitvlm.data.camera import encode_image
from splitvlm.embedded import embedded_cluster
from splitvlm.errors import BadRequest, QuestionError
from splitvlm.model.hf import load
from splitvlm.plan.plan import Tier
from splitvlm.runtime.hf_stages import HFText
from splitvlm.sdk import AsyncClient

pytestmark = pytest.mark.asyncio(loop_scope="module")
QUESTION = "w40 w41 w42 ?"


@pytest.mark.parametrize("name", ["idefics3", "qwen2_vl"])
async def test_three_services_answer_free_text_as_transformers(
        name: str, tiny_dir: Callable[[str], Path]) -> None:
    directory = tiny_dir(name)
    family = load(directory)
    s = family.image_size
    pixels = np.random.default_rng(11).integers(0, 256, (s, s, 3), dtype=np.uint8)
    expected = HFText(family).text_of(family.reference(QUESTION, pixels, 12))
    image = encode_image(pixels, "PNG")
    async with embedded_cluster(transport="grpc", model_dir=str(directory)) as cluster, \
            AsyncClient(cluster.edge_target) as client:
        for plan in ("", "edge-vision+fog-lm", "edge-vision+cloud-lm", "fog-all",
                     "cloud-all", "split-1"):
            answer = await client.ask(image, QUESTION, plan=plan, max_new_tokens=12)
            assert answer.text == expected, plan or "auto"
        hit = await client.ask(None, QUESTION, plan="edge-vision+fog-lm", max_new_tokens=12,
                               image_key=answer.image_key)
        assert hit.text == expected
        assert cluster.tier(Tier.FOG).executor.status().cache.hits >= 1  # type: ignore[union-attr]
        with pytest.raises(QuestionError, match="empty"):
            await client.ask(image, "   ")
        longer = await client.ask(image, QUESTION, max_new_tokens=40)  # past the shipped 24
        assert longer.text.startswith(expected)
        with pytest.raises(BadRequest, match=r"allowed 0\.\.256"):
            await client.ask(image, QUESTION, max_new_tokens=257)
