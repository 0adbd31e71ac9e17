"""Split == unsplit, through the Executor: every cut x every encoding, in two- and three-tier
plans, with the edge's ONNX prefixes (fp32 and INT8) and torch on the fog and the cloud.

The reference for a plan is computed without any executor: the same back ends called directly
(the edge's ONNX prefix up to the cut, the encoding's round trip, torch for the rest, the LM of
the plan's last tier). A lossless hand-off must also answer as the unsplit torch model does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.data.camera import encode_image
from splitvlm.data.sets import Sample, held_out_set
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.executor import Executor, Payload, Request, ResultEvent, TokenEvent
from splitvlm.executor.builders import edge_compute, torch_compute
from splitvlm.executor.local import local_hop
from splitvlm.executor.scripted import ScriptedHop
from splitvlm.model import zoo
from splitvlm.model.lm import LM
from splitvlm.plan.candidates import encodings_at
from splitvlm.plan.plan import Plan, Precision, Step, Tier
from splitvlm.runtime.torch_stages import TorchVisual
from splitvlm.stages import StageGraph
from splitvlm.wire import decode, encode
from splitvlm.wire.codecs import TENSOR_ENCODINGS, Encoding, codec

pytestmark = pytest.mark.asyncio(loop_scope="module")
N_QUESTIONS = 2


@dataclass
class Tiers:
    edge: Executor
    to_fog: ScriptedHop  # the edge-fog link: the fog's executor, recording what it is sent
    graph: StageGraph
    visual: TorchVisual  # torch fp32, the fog's and the cloud's
    lms: dict[Tier, LM]
    samples: list[Sample]


@pytest.fixture(scope="module")
def tiers(checkpoints: Path) -> Iterator[Tiers]:
    torch.set_num_threads(1)
    cloud = Executor(Tier.CLOUD, torch_compute(checkpoints, "cloud", 1))
    fog = Executor(Tier.FOG, torch_compute(checkpoints, "fog", 1), next_hop=local_hop(cloud))
    to_fog = ScriptedHop(fog.execute)
    edge = Executor(Tier.EDGE, edge_compute(checkpoints, 1), next_hop=to_fog.next_hop)
    samples = [s for s in held_out_set(per_type=1) if s.qa.qtype in ("relate", "count")]
    yield Tiers(edge, to_fog, edge.graph, TorchVisual(zoo.load_visual(checkpoints)),
                {t: zoo.load_lm(t.value, checkpoints) for t in (Tier.FOG, Tier.CLOUD)},
                samples[:N_QUESTIONS])


def plans(graph: StageGraph) -> Iterator[Plan]:
    """Two tiers (edge, then the fog's or the cloud's LM, in turn) at every cut, encoding and
    edge precision, and three (edge, fog vision, cloud LM) at the same, the second cut one
    later."""
    n, turn = graph.n_stages, 0
    for cut in graph.cuts:
        precisions = (Precision.FP32, Precision.INT8) if cut > graph.patch_embed else (
            Precision.FP32,)
        for encoding in encodings_at(graph, cut, TENSOR_ENCODINGS):
            for precision in precisions:
                turn += 1
                lm = (Tier.FOG, Tier.CLOUD)[turn % 2]
                yield Plan((Step(Tier.EDGE, 0, cut, precision), Step(lm, cut, n)),
                           (encoding,), f"{cut}:{encoding}:{precision}:{lm}")
                if cut < graph.prefill:
                    second = max(cut + 1, graph.patch_embed + 1)
                    later = encodings_at(graph, second, TENSOR_ENCODINGS)[-1]  # the coarsest there
                    yield Plan((Step(Tier.EDGE, 0, cut, precision), Step(Tier.FOG, cut, second),
                                Step(Tier.CLOUD, second, n)), (encoding, later),
                               f"{cut}:{encoding}:{precision}:fog{second}:{later}")


def _through(value: np.ndarray, encoding: Encoding) -> np.ndarray:
    return decode(encode(value.astype(np.float32), encoding))


def reference(t: Tiers, plan: Plan, pixels: np.ndarray, prompt: list[int]) -> list[int]:
    """The plan's answer from the back ends called directly, no executor."""
    graph, edge = t.graph, plan.steps[0]
    value = pixels[None]  # (1, S, S, 3) uint8: what preprocess makes of the PNG
    runner = t.edge.compute.runners[edge.precision]
    if edge.stop > graph.patch_embed:
        value = runner.run(value, graph.patch_embed, edge.stop)
    for i, step in enumerate(plan.steps[1:], start=1):
        encoding = plan.encodings[i - 1]
        if encoding.is_tensor:
            value = _through(value, encoding)
        start = max(step.start, graph.patch_embed)
        stop = min(step.stop, graph.prefill)
        if start < stop:
            value = t.visual.run(value, start, stop)
    tok = Tokenizer()
    with torch.no_grad():
        out = t.lms[plan.lm_tier].generate(torch.from_numpy(value).float(), [prompt],
                                           tok.pad_id, tok.eos_id)
    return [i for i in out[0] if i != tok.eos_id]


async def through_executor(t: Tiers, plan: Plan, image: bytes, question: str) -> list[int]:
    request = Request(plan, question, Payload(0, Encoding.IMAGE, image=image))
    tokens, results = [], []
    async for event in t.edge.execute(request):
        if isinstance(event, TokenEvent):
            tokens.append(event.id)
        elif isinstance(event, ResultEvent):
            results.append(event)
    assert len(results) == 1 and results[0].tokens >= len(tokens)
    sent = t.to_fog.received[-1].payload  # what crossed the edge-fog link
    planned = plan.encodings[0]
    assert sent.cut == plan.cut(0)
    assert sent.encoding is planned or (planned.is_tensor and sent.encoding in
                                        codec(planned).arrives_as)
    return tokens


async def test_every_cut_and_encoding_answers_as_the_same_stages_called_directly(
        tiers: Tiers) -> None:
    tok, checked = Tokenizer(), 0
    for sample in tiers.samples:
        pixels = sample.image(tiers.graph.image_size)  # PNG: decoding it is lossless
        image, prompt = encode_image(pixels, "PNG"), tok.encode(sample.qa.question)
        for plan in plans(tiers.graph):
            got = await through_executor(tiers, plan, image, sample.qa.question)
            assert got == reference(tiers, plan, pixels, prompt + [tok.ans_id]), plan.name
            checked += 1
    assert checked == N_QUESTIONS * len(list(plans(tiers.graph))) > 200


async def test_lossless_hand_offs_answer_as_the_unsplit_model(tiers: Tiers) -> None:
    tok, graph = Tokenizer(), tiers.graph
    for sample in tiers.samples:
        pixels = sample.image(graph.image_size)
        prompt = tok.encode(sample.qa.question) + [tok.ans_id]
        with torch.no_grad():
            whole = tiers.visual.model(torch.from_numpy(pixels[None].copy()))
            unsplit = [i for i in tiers.lms[Tier.CLOUD].generate(
                whole, [prompt], tok.pad_id, tok.eos_id)[0] if i != tok.eos_id]
        for plan in plans(graph):
            lossless = all(e in (Encoding.IMAGE, Encoding.PNG, Encoding.FP32)
                           for e in plan.encodings)
            if plan.lm_tier is Tier.CLOUD and lossless and plan.steps[0].precision is (
                    Precision.FP32):
                got = await through_executor(tiers, plan, encode_image(pixels, "PNG"),
                                             sample.qa.question)
                assert got == unsplit, plan.name
