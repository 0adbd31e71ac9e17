"""Run any contiguous range of visual stages in torch, and the LM stages.

Values at cuts (batch first): cut 1 pixels (B, S, S, 3) uint8; cuts 2..L+2 tokens (B, N, Dv);
cut L+3 codes (B, N', r); cut L+4 visual tokens (B, N', Dl). Cut 0 (image bytes) is handled
by `splitvlm.data.camera.preprocess`, which needs no torch.
"""

from __future__ import annotations

import numpy as np
import torch

from splitvlm.model.vlm import VisualSide
from splitvlm.stages import StageGraph, StageKind


class StagedTorch:
    """Visual stages in torch: `run(value, start, stop)` executes stages [start, stop) through
    `_stage`, which a model family defines (ours here, a Hugging Face VLM's in
    splitvlm.runtime.hf_stages)."""

    prefix_only = False  # any range of visual stages
    graph: StageGraph
    model: torch.nn.Module  # what an exported prefix takes its weights from

    @torch.no_grad()
    def run(self, value: np.ndarray, start: int, stop: int) -> np.ndarray:
        """value is the boundary at cut `start` (batch first); returns the boundary at `stop`."""
        if not 1 <= start <= stop <= self.graph.prefill:
            raise ValueError(
                f"visual stages run between cuts 1 and {self.graph.prefill}, got {start}..{stop}"
            )
        x = torch.from_numpy(np.require(value, requirements=["C", "W"]))  # writable copy if needed
        for stage in self.graph.stages[start:stop]:
            x = self._stage(stage.kind, stage.block, x)
        return x.numpy()

    def _stage(self, kind: StageKind, block: int | None, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class TorchVisual(StagedTorch):
    """The shipped family's visual side as stages."""

    model: VisualSide

    def __init__(self, model: VisualSide) -> None:
        self.model = model.eval()
        self.graph = StageGraph.from_visual_config(_config_dict(model))

    def _stage(self, kind: StageKind, block: int | None, x: torch.Tensor) -> torch.Tensor:
        enc, proj = self.model.encoder, self.model.projector
        if kind is StageKind.PATCH_EMBED:
            return enc.patch_embed(x)  # (B, S, S, 3) uint8 -> (B, N, Dv)
        if kind is StageKind.VISION:
            assert block is not None
            return enc.blocks[block](x)  # (B, N, Dv)
        if kind is StageKind.PROJECT_DOWN:
            return proj.down(enc.norm(x))  # (B, N, Dv) -> (B, N', r)
        if kind is StageKind.PROJECT_UP:
            return proj.project_up(x)  # (B, N', r) -> (B, N', Dl)
        raise ValueError(f"stage {kind} is not a visual stage")


def _config_dict(model: VisualSide) -> dict:  # type: ignore[type-arg]
    import dataclasses

    return dataclasses.asdict(model.cfg)
