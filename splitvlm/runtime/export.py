"""Export the edge's ONNX graphs: visual prefixes (pixels -> cut k) and the tiny LM.

    from splitvlm.runtime.export import export_edge_lm, export_visual
    export_visual(visual_side, "out/onnx", version=visual_hash)
    export_edge_lm(lm, "out/onnx", version=lm_hash)

The edge only ever runs a *prefix* of the visual side (it starts from pixels), so there is one
graph per cut k = 2..`prefill`: `visual_prefix_{k}.onnx`, pixels (B, S, S, 3) uint8 -> the
boundary at cut k, batch dynamic. The receiving tier runs the rest in torch. The LM is two
graphs at batch 1: `prefill` (visual + prompt -> last logits + KV cache) and `decode` (one
token + cache -> logits + cache). `manifest.json` records every file; `splitvlm.runtime.ort`
reads it without torch. Uses the TorchScript exporter (`dynamo=False`): ~0.5 s per graph
against ~15 s for torch.export, and ONNX Runtime folds its shape arithmetic away.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from splitvlm.model.lm import LM
from splitvlm.model.vlm import VisualSide
from splitvlm.runtime.ort import (
    LM_DECODE_FILE,
    LM_PREFILL_FILE,
    MANIFEST_FILE,
    MANIFEST_FORMAT,
    OPSET,
    prefix_file,
    read_manifest,
)
from splitvlm.runtime.torch_stages import StagedTorch, TorchVisual

PathLike = str | Path


class _VisualPrefix(nn.Module):
    """Stages [1, stop) of the visual side: pixels (B, S, S, 3) uint8 -> boundary at `stop`."""

    def __init__(self, visual: StagedTorch, stop: int) -> None:
        super().__init__()
        self.model = visual.model  # registers the weights with this module
        self.stages = visual.graph.stages[1:stop]
        self._stage = visual._stage  # the one definition of what each stage computes

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels
        for stage in self.stages:
            x = self._stage(stage.kind, stage.block, x)
        return x


class _Prefill(nn.Module):
    """visual (1, Nv, Dl) f32, ids (1, T) int64 -> last logits (1, V), keys/values
    (L, 1, H, Nv+T, hd). Batch 1 needs no padding, so every key is valid."""

    def __init__(self, lm: LM) -> None:
        super().__init__()
        self.lm = lm

    def forward(
        self, visual: torch.Tensor, ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = torch.cat([self.lm.embed_visual(visual), self.lm.tok_emb(ids)], dim=1)  # (1, T', d)
        positions = torch.arange(h.shape[1], device=h.device)[None]  # (1, T')
        logits, (keys, values) = self.lm(h, positions)
        return logits[:, -1], keys, values


class _Decode(nn.Module):
    """token (1, 1) int64 at position (1, 1) int64, past keys/values (L, 1, H, P, hd)
    -> logits (1, V), keys/values (L, 1, H, P+1, hd)."""

    def __init__(self, lm: LM) -> None:
        super().__init__()
        self.lm = lm

    def forward(
        self, token: torch.Tensor, position: torch.Tensor, past_keys: torch.Tensor,
        past_values: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits, (keys, values) = self.lm(self.lm.tok_emb(token), position,
                                         (past_keys, past_values))
        return logits[:, -1], keys, values


def export_visual(
    model: VisualSide, out_dir: PathLike, version: str | None = None
) -> dict[str, Any]:
    """Write `visual_prefix_{k}.onnx` for every tensor cut k; returns the manifest."""
    return export_prefixes(TorchVisual(model), out_dir, dataclasses.asdict(model.cfg), version)


def export_prefixes(visual: StagedTorch, out_dir: PathLike, config: dict[str, Any],
                    version: str | None, batch: int = 2) -> dict[str, Any]:
    """One prefix graph per tensor cut of any family's visual stages; the manifest records
    the graph itself (`graph`) beside the family's `config`. `batch`: the example's batch,
    2 so that the batch stays dynamic; 1 for stages that loop over the batch (traced as
    constants), whose graphs then run batch 1 only (`batch` in the manifest says so)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    graph = visual.graph
    s = graph.image_size
    example = torch.from_numpy(_example_pixels(s, batch))  # (batch, S, S, 3)
    prefixes = []
    for cut in graph.tensor_cuts:
        boundary = graph.boundary(cut)
        path = out / prefix_file(cut, "fp32")
        _export(_VisualPrefix(visual, cut), (example,), path, ["pixels"], [boundary.name],
                {"pixels": {0: "batch"}, boundary.name: {0: "batch"}})
        prefixes.append({
            "cut": cut, "input": "pixels", "output": boundary.name,
            "shape": ["batch", *boundary.shape], "dtype": boundary.dtype,
            "files": {"fp32": _file_entry(path)},
        })
    section = {
        "config": config, "graph": dataclasses.asdict(graph), "version": version,
        "batch": "dynamic" if batch > 1 else 1,
        "input": {"name": "pixels", "shape": ["batch", s, s, 3], "dtype": "uint8"},
        "prefixes": prefixes,
    }
    return _update_manifest(out, "visual", section)


def export_edge_lm(lm: LM, out_dir: PathLike, version: str | None = None) -> dict[str, Any]:
    """Write the LM's `prefill` and `decode` graphs (batch 1); returns the manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lm = lm.eval()
    cfg = lm.cfg
    hd = cfg.dim // cfg.heads
    visual = torch.randn(1, cfg.n_visual, cfg.visual_dim)
    ids = torch.arange(5, dtype=torch.long)[None] % cfg.vocab_size  # (1, 5)
    _export(_Prefill(lm), (visual, ids), out / LM_PREFILL_FILE, ["visual", "ids"],
            ["logits", "keys", "values"],
            {"ids": {1: "text"}, "keys": {3: "length"}, "values": {3: "length"}})
    past = torch.randn(cfg.depth, 1, cfg.heads, cfg.n_visual + 5, hd)
    token, position = torch.tensor([[3]]), torch.tensor([[cfg.n_visual + 5]])
    _export(_Decode(lm), (token, position, past, past.clone()), out / LM_DECODE_FILE,
            ["token", "position", "past_keys", "past_values"], ["logits", "keys", "values"],
            {"past_keys": {3: "past"}, "past_values": {3: "past"},
             "keys": {3: "length"}, "values": {3: "length"}})
    kv_shape = [cfg.depth, 1, cfg.heads, "length", hd]
    section = {
        "config": dataclasses.asdict(cfg), "version": version,
        "prefill": {
            "inputs": {"visual": [1, cfg.n_visual, cfg.visual_dim], "ids": [1, "text"]},
            "outputs": {"logits": [1, cfg.vocab_size], "keys": kv_shape, "values": kv_shape},
            "files": {"fp32": _file_entry(out / LM_PREFILL_FILE)},
        },
        "decode": {
            "inputs": {"token": [1, 1], "position": [1, 1],
                       "past_keys": [*kv_shape[:3], "past", hd],
                       "past_values": [*kv_shape[:3], "past", hd]},
            "outputs": {"logits": [1, cfg.vocab_size], "keys": kv_shape, "values": kv_shape},
            "files": {"fp32": _file_entry(out / LM_DECODE_FILE)},
        },
    }
    return _update_manifest(out, "edge_lm", section)


def _export(
    module: nn.Module, args: tuple[torch.Tensor, ...], path: Path, inputs: list[str],
    outputs: list[str], dynamic_axes: dict[str, dict[int, str]],
) -> None:
    with warnings.catch_warnings():  # the TorchScript exporter is deprecated, not broken
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # advanced indexing (an image's patch positions, CLS dropped): indices are never
        # negative here, which is all the exporter warns about
        warnings.filterwarnings("ignore", message="Exporting aten::index operator")
        torch.onnx.export(
            module.eval(), args, str(path), input_names=inputs, output_names=outputs,
            dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False,
            do_constant_folding=True,
        )


def _example_pixels(size: int, batch: int = 2) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)  # (batch, S, S, 3)


def _file_entry(path: Path) -> dict[str, Any]:
    return {"file": path.name, "bytes": path.stat().st_size}


def _update_manifest(out: Path, key: str, section: dict[str, Any]) -> dict[str, Any]:
    """Replace one section of `manifest.json` (created if absent), keeping the others."""
    path = out / MANIFEST_FILE
    manifest: dict[str, Any] = (
        read_manifest(out) if path.exists() else {"format": MANIFEST_FORMAT}
    )
    manifest["opset"] = OPSET
    manifest[key] = section
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
