"""Build a tier's compute from checkpoints: ONNX Runtime on the edge, torch on fog/cloud.

`edge_compute` never imports torch; `torch_compute` imports it lazily.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from splitvlm.checkpoints import ONNX_SUBDIR
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.executor.compute import (
    BlockingGenerator,
    BlockingScorer,
    TierCompute,
    TokenGenerator,
)
from splitvlm.executor.status import EngineLoad
from splitvlm.plan.plan import Precision
from splitvlm.stages import StageGraph

HF_MAX_ANSWER_TOKENS = 256  # a Hugging Face VLM's answers: descriptions, not one word

if TYPE_CHECKING:
    from splitvlm.runtime.ort import OrtVisual



def visual_meta(checkpoints: Path) -> tuple[StageGraph, str]:
    doc = json.loads((checkpoints / "visual.json").read_text())
    return StageGraph.from_visual_config(doc["config"]), str(doc["hash"])


class OrtPrefixRunner:
    """An OrtVisual as a VisualRunner: it runs prefixes, so it starts at the pixels (cut 1)."""

    prefix_only = True

    def __init__(self, visual: OrtVisual) -> None:
        self.visual = visual

    def run(self, value: np.ndarray, start: int, stop: int) -> np.ndarray:
        if start != self.visual.graph.patch_embed:
            raise ValueError(f"the edge's ONNX vision runs prefixes from the pixels, not cut "
                             f"{start}")
        return np.asarray(self.visual.run(value, stop))


def edge_compute(checkpoints: Path, threads: int) -> TierCompute:
    from splitvlm.runtime.ort import OrtEdgeLM, OrtVisual

    onnx_dir = checkpoints / ONNX_SUBDIR
    graph, version = visual_meta(checkpoints)
    runners = {Precision(p): OrtPrefixRunner(OrtVisual(onnx_dir, p, threads))
               for p in ("fp32", "int8")}
    tok = Tokenizer()
    lm = OrtEdgeLM(onnx_dir, threads)
    generator = BlockingGenerator(
        lambda visual, prompts, max_new: lm.generate(visual, prompts, tok.pad_id, tok.eos_id,
                                                     max_new))
    scorer = BlockingScorer(
        lambda visual, prompts, max_new: lm.generate_scored(visual, prompts, tok.pad_id,
                                                            tok.eos_id, max_new))
    return TierCompute(graph, version, dict(runners), generator, "edge", scorer=scorer)


def engine_compute(checkpoints: Path, lm_tier: str, threads: int, max_batch: int,
                   max_waiting: int) -> tuple[TierCompute, Callable[[], None]]:
    """fp32 torch vision and the tier's LM under continuous batching (started); returns the
    compute and the function that stops the engine."""
    from splitvlm.engine import EngineConfig, EngineGenerator, engine_for_tier

    engine = engine_for_tier(lm_tier, EngineConfig.for_slots(max_batch, max_waiting),
                             directory=checkpoints)
    compute = torch_compute(checkpoints, None, threads, EngineGenerator(engine))
    compute.lm_name = lm_tier

    def stats() -> EngineLoad:
        s = engine.stats()
        return EngineLoad(s.waiting, s.running, s.batch_mean)

    compute.stats = stats
    engine.start()
    return compute, engine.stop


def torch_compute(checkpoints: Path, lm_tier: str | None, threads: int,
                  generator: TokenGenerator | None = None) -> TierCompute:
    """fp32 torch vision for any stage range, and the `lm_tier` LM (direct, or `generator`)."""
    import torch

    from splitvlm.model import zoo
    from splitvlm.runtime.torch_stages import TorchVisual

    torch.set_num_threads(threads)
    graph, version = visual_meta(checkpoints)
    runners = {Precision.FP32: TorchVisual(zoo.load_visual(checkpoints))}
    scorer = None
    if generator is None and lm_tier is not None:
        lm = zoo.load_lm(lm_tier, checkpoints)
        tok = Tokenizer()
        generator = BlockingGenerator(
            lambda visual, prompts, max_new: lm.generate(
                torch.from_numpy(visual).float(), prompts, tok.pad_id, tok.eos_id, max_new))
        scorer = BlockingScorer(
            lambda visual, prompts, max_new: lm.generate_scored(
                torch.from_numpy(visual).float(), prompts, tok.pad_id, tok.eos_id, max_new))
    return TierCompute(graph, version, dict(runners), generator, lm_tier or "",
                       scorer=scorer)


def hf_compute(model_dir: Path, tier: str, threads: int) -> TierCompute:
    """A Hugging Face VLM (the [hf] extra) on any tier: its visual stages (the edge: ONNX
    Runtime prefixes, fp32 and INT8, exported once; fog and cloud: fp32 torch, any range) and
    its LM (torch, streaming)."""
    import torch

    from splitvlm.model.hf import load
    from splitvlm.runtime.hf_export import ensure_exported, visual_version
    from splitvlm.runtime.hf_stages import HFGenerator, HFText, HFVisual
    from splitvlm.runtime.ort import OrtVisual

    torch.set_num_threads(threads)
    family = load(model_dir)
    version = visual_version(family)
    runners: dict[Precision, Any]
    if tier == "edge":
        onnx_dir = ensure_exported(family, model_dir, version)
        runners = {Precision(p): OrtPrefixRunner(OrtVisual(onnx_dir, p, threads))
                   for p in ("fp32", "int8")}
    else:
        runners = {Precision.FP32: HFVisual(family)}
    return TierCompute(family.graph, version, runners, HFGenerator(family), tier,
                       text=HFText(family), max_answer_tokens=HF_MAX_ANSWER_TOKENS)
