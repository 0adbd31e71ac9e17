"""The profile report: one row per stage (an LM stage once per tier) plus headline figures."""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
from pathlib import Path
from typing import Any

import onnxruntime
import torch
from torch import nn

from splitvlm.checkpoints import ONNX_SUBDIR
from splitvlm.model import zoo
from splitvlm.model.lm import LM
from splitvlm.model.vlm import VisualSide
from splitvlm.profiling import flops
from splitvlm.profiling.measure import LM_BATCH, THREADS, WARMUP, Timings, measure
from splitvlm.runtime.ort import MANIFEST_FILE
from splitvlm.runtime.torch_stages import TorchVisual
from splitvlm.stages import Boundary, Stage, StageGraph, StageKind
from splitvlm.wire.codecs import encoded_sizes

NOTES = (
    "ORT per-stage ms are differences of consecutive prefix medians (ORT runs pixels -> cut "
    "prefixes only, all timed in one round-robin; patch_embed = prefix 2): may be < 0",
    "torch per-stage ms: TorchVisual.run one stage at a time; LM rows: LM.forward, batch 1",
    "decode ms is one token, the first after the prompt; ORT LM is the edge tier's only",
    "cell_head (pretraining only) runs in no stage: visual_params - cell_head_params = sum "
    "of the visual stages' params",
)


@dataclasses.dataclass(frozen=True)
class StageRow:
    stage: str  # the StageGraph name
    tier: str | None  # LM tier for prefill / decode, else None
    params: int  # parameters the stage reads
    flops: int | None  # analytic, per image (per token for decode); None: not counted
    boundary: dict[str, Any] | None  # the tensor after the stage; None after prefill / decode
    torch_fp32_ms: float | None
    ort_fp32_ms: float | None
    ort_int8_ms: float | None


def profile_report(checkpoints: Path, runs: int = 30) -> dict[str, Any]:
    """Profile the checkpoints in `checkpoints` (with their ONNX graphs in `onnx/`)."""
    if runs < 1:
        raise ValueError(f"runs={runs} must be >= 1")
    onnx_dir = checkpoints / ONNX_SUBDIR
    if not (onnx_dir / MANIFEST_FILE).exists():
        raise FileNotFoundError(
            f"no ONNX graphs in {onnx_dir}: run `splitvlm export --checkpoints {checkpoints}`")
    model = zoo.load_visual(checkpoints)
    lm_by_tier = {tier: zoo.load_lm(tier, checkpoints) for tier in zoo.LM_TIERS}
    visual = TorchVisual(model)
    t = measure(visual, lm_by_tier, onnx_dir, flops.PROMPT_TOKENS, runs, sys.stderr.isatty())
    prefill_tokens = model.cfg.projector.n_queries + flops.PROMPT_TOKENS
    whole = t.visual_ms
    return {
        "checkpoints": str(checkpoints), "runs": runs, "warmup": WARMUP, "threads": THREADS,
        "batch": 1, "machine": _machine(),
        "prompt_tokens": flops.PROMPT_TOKENS, "prefill_tokens": prefill_tokens,
        "decode_kv_len": prefill_tokens + 1,
        "visual_params": zoo.n_params(model), "cell_head_params": zoo.n_params(model.cell_head),
        "stages": [dataclasses.asdict(row) for row in _visual_rows(model, visual.graph, t)]
        + [dataclasses.asdict(row) for row in _lm_rows(lm_by_tier, t)],
        "ort_prefixes": [
            {"cut": cut, "boundary": visual.graph.boundary(cut).name, "fp32_ms": ms,
             "int8_ms": t.ort_prefix_ms["int8"][cut]}
            for cut, ms in t.ort_prefix_ms["fp32"].items()
        ],
        "vision_ms_torch_fp32": whole["torch_fp32"], "vision_ms_ort_fp32": whole["ort_fp32"],
        "vision_ms_ort_int8": whole["ort_int8"],
        "speedup_int8_vs_torch": whole["torch_fp32"] / whole["ort_int8"],
        "lm_decode": _lm_decode(lm_by_tier, t),
        "notes": list(NOTES),
    }


def stage_modules(model: VisualSide, stage: Stage) -> list[nn.Module]:
    """The modules a visual stage runs (as `TorchVisual._stage` runs them)."""
    enc, proj = model.encoder, model.projector
    if stage.kind is StageKind.PATCH_EMBED:
        return [enc.patch_embed]
    if stage.kind is StageKind.VISION:
        assert stage.block is not None
        return [enc.blocks[stage.block]]
    if stage.kind is StageKind.PROJECT_DOWN:
        return [enc.norm, proj.down]
    if stage.kind is StageKind.PROJECT_UP:
        return [proj.up, proj.out]
    return []  # preprocess: numpy + PIL, no weights


def boundary_doc(b: Boundary) -> dict[str, Any]:
    sizes = {f"bytes_{e}": n for e, n in encoded_sizes(b.shape).items()}
    return {"name": b.name, "shape": list(b.shape)} | sizes


def _visual_rows(model: VisualSide, graph: StageGraph, t: Timings) -> list[StageRow]:
    v, p = model.cfg.vision, model.cfg.projector
    rows = []
    for stage in graph.stages[:graph.prefill]:
        k = stage.index
        ort = {prec: None if k == 0 else by_cut[k + 1] - by_cut.get(k, 0.0)  # prefix 1: input
               for prec, by_cut in t.ort_prefix_ms.items()}
        rows.append(StageRow(
            stage.name, None, sum(zoo.n_params(m) for m in stage_modules(model, stage)),
            flops.visual_stage_flops(v, p, stage.kind), boundary_doc(graph.boundary(k + 1)),
            t.torch_stage_ms.get(k), ort["fp32"], ort["int8"]))
    return rows


def _lm_rows(lm_by_tier: dict[str, LM], t: Timings) -> list[StageRow]:
    rows = []
    for tier, lm in lm_by_tier.items():
        params, cfg = zoo.n_params(lm), lm.cfg
        kv_len = flops.prefill_tokens(cfg) + 1
        edge = tier == "edge"
        rows.append(StageRow(
            StageKind.PREFILL.value, tier, params, flops.lm_prefill_flops(cfg), None,
            t.lm.prefill_ms[tier], t.lm.ort_edge_prefill_ms if edge else None, None))
        rows.append(StageRow(
            StageKind.DECODE.value, tier, params, flops.lm_decode_flops(cfg, kv_len), None,
            t.lm.decode_ms[tier], t.lm.ort_edge_decode_ms if edge else None, None))
    return rows


def _lm_decode(lm_by_tier: dict[str, LM], t: Timings) -> dict[str, dict[str, Any]]:
    return {tier: {
        "params": zoo.n_params(lm),
        "torch_b1_ms_per_token": t.lm.decode_ms[tier],
        f"torch_b{LM_BATCH}_ms_per_step": t.lm.decode_batch_ms[tier],
        f"torch_b{LM_BATCH}_ms_per_token": t.lm.decode_batch_ms[tier] / LM_BATCH,
        "ort_b1_ms_per_token": t.lm.ort_edge_decode_ms if tier == "edge" else None,
    } for tier, lm in lm_by_tier.items()}


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(), "machine": platform.machine(),
        "processor": platform.processor(), "cpu_count": os.cpu_count(),
        "loadavg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(), "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
