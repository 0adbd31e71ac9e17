"""A Hugging Face VLM split at every cut answers exactly as `transformers`' `generate` on the
unsplit model: fp32 hand-offs, through the Executor, in two-tier (edge, then the fog's or the
cloud's LM) and three-tier plans (edge, fog vision, cloud LM), the edge on its exported ONNX
prefix, fog and cloud on torch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.data.camera import encode_image
from splitvlm.executor import Executor, Payload, Request, ResultEvent, TokenEvent
from splitvlm.executor.builders import hf_compute
from splitvlm.executor.local import local_hop
from splitvlm.model.hf.family import Family
from splitvlm.model.hf.tiny import TINY
from splitvlm.plan.plan import Plan, Precision, Step, Tier
from splitvlm.runtime.hf_stages import HFGenerator, HFText
from splitvlm.stages import StageGraph
from splitvlm.wire.codecs import Encoding

pytestmark = pytest.mark.asyncio(loop_scope="module")
QUESTION = "w11 w12 w13 ?"
MAX_NEW = 10


@dataclass
class Tiers:
    edge: Executor
    family: Family  # the cloud's: its unsplit `generate` is the reference
    graph: StageGraph


@pytest.fixture(scope="module", params=TINY)
def tiers(request: pytest.FixtureRequest, tiny_dir: Callable[[str], Path]) -> Tiers:
    torch.set_num_threads(1)
    directory = tiny_dir(request.param)
    cloud = Executor(Tier.CLOUD, hf_compute(directory, "cloud", 1))
    fog = Executor(Tier.FOG, hf_compute(directory, "fog", 1), next_hop=local_hop(cloud))
    edge = Executor(Tier.EDGE, hf_compute(directory, "edge", 1), next_hop=local_hop(fog))
    assert isinstance(cloud.compute.lm, HFGenerator)
    return Tiers(edge, cloud.compute.lm.family, edge.graph)


def _encoding(graph: StageGraph, cut: int) -> Encoding:
    return (Encoding.IMAGE if cut == 0 else Encoding.PNG if cut == graph.patch_embed
            else Encoding.FP32)


def plans(graph: StageGraph) -> Iterator[Plan]:
    n = graph.n_stages
    for cut in graph.cuts:
        for lm in (Tier.FOG, Tier.CLOUD):
            yield Plan((Step(Tier.EDGE, 0, cut, Precision.FP32), Step(lm, cut, n)),
                       (_encoding(graph, cut),), f"{cut}:{lm}")
        if cut < graph.prefill:
            second = max(cut + 1, graph.patch_embed + 1)
            yield Plan((Step(Tier.EDGE, 0, cut, Precision.FP32), Step(Tier.FOG, cut, second),
                        Step(Tier.CLOUD, second, n)),
                       (_encoding(graph, cut), _encoding(graph, second)), f"{cut}:fog{second}")


async def answer(t: Tiers, plan: Plan, image: bytes) -> tuple[list[int], str]:
    ids, pieces, results = [], [], []
    async for event in t.edge.execute(Request(plan, QUESTION, Payload(0, Encoding.IMAGE,
                                                                      image=image),
                                              max_new_tokens=MAX_NEW)):
        if isinstance(event, TokenEvent):
            ids.append(event.id)
            pieces.append(event.text)
        elif isinstance(event, ResultEvent):
            results.append(event)
    assert len(results) == 1
    return ids, t.edge.text.join(pieces)


async def test_every_cut_answers_as_the_unsplit_model(tiers: Tiers) -> None:
    graph, family = tiers.graph, tiers.family
    pixels = np.random.default_rng(7).integers(0, 256, (graph.image_size, graph.image_size, 3),
                                               dtype=np.uint8)
    expected = family.until_end(family.reference(QUESTION, pixels, MAX_NEW))
    text = HFText(family).text_of(expected)
    checked = 0
    for plan in plans(graph):
        ids, answer_text = await answer(tiers, plan, encode_image(pixels, "PNG"))
        assert ids == expected, plan.name
        assert answer_text == text, plan.name
        checked += 1
    assert checked == 3 * len(graph.cuts) - 1  # two LM tiers at every cut, three tiers below
