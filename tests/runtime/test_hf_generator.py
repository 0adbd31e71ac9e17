"""HFGenerator under concurrency: requests queue on the model's own thread and each gets the
tokens it would get alone (Qwen2-VL keeps per-call state); a caller that leaves early stops
its generation and leaves the others unharmed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from splitvlm.model.hf import load
from splitvlm.runtime.hf_stages import HFGenerator, HFVisual

pytestmark = pytest.mark.asyncio


async def _tokens(lm: HFGenerator, visual: np.ndarray, prompt: list[int], limit: int = 99
                  ) -> list[int]:
    out = []
    async for token in lm.stream(visual, prompt, 10, None):
        out.append(token)
        if len(out) >= limit:
            break
    return out


async def test_concurrent_requests_answer_as_alone(tiny_dir: Callable[[str], Path]) -> None:
    family = load(tiny_dir("qwen2_vl"))
    lm, graph = HFGenerator(family), family.graph
    s = graph.image_size
    cases = []
    for i in range(4):
        pixels = np.random.default_rng(i).integers(0, 256, (1, s, s, 3), dtype=np.uint8)
        visual = HFVisual(family).run(pixels, graph.patch_embed, graph.prefill)
        prompt = family.prompt(f"w{i} w{2 * i} ?")
        cases.append((visual, prompt, family.generate(visual, prompt, 10)))
    early = asyncio.gather(*(_tokens(lm, v, p, limit=1) for v, p, _ in cases[:2]))
    together = await asyncio.gather(*(_tokens(lm, v, p) for v, p, _ in cases))
    assert [len(t) for t in await early] == [1, 1]
    assert together == [alone for _, _, alone in cases]
