"""The shared visual side: encoder + projector + the dense cell head used to pretrain it.

The visual side is one model for every tier; its `version` hash keys cached features and
tells an LM which visual side it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from splitvlm.data.scenes import CELL_FIELDS
from splitvlm.model.projector import Projector, ProjectorConfig
from splitvlm.model.vision import VisionConfig, VisionEncoder

CELL_HEAD_WIDTH = sum(CELL_FIELDS.values())  # occupied(2) + shape(3) + colour(6) + size(2)


@dataclass(frozen=True)
class VisualConfig:
    vision: VisionConfig = field(default_factory=VisionConfig)
    projector: ProjectorConfig = field(default_factory=ProjectorConfig)


class VisualSide(nn.Module):
    """uint8 pixels (B, S, S, 3) -> visual tokens in LM space (B, N', Dl)."""

    def __init__(self, cfg: VisualConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = VisionEncoder(cfg.vision)
        self.projector = Projector(cfg.vision.dim, cfg.projector)
        # Dense per-cell targets for pretraining; the LMs copy its occupancy rows.
        self.cell_head = nn.Linear(cfg.projector.out_dim, CELL_HEAD_WIDTH)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.projector(self.encoder(pixels))

    def cell_logits(self, visual: torch.Tensor) -> dict[str, torch.Tensor]:
        """visual (B, 9, Dl) -> logits per field, each (B, 9, classes)."""
        logits = self.cell_head(visual)
        out, start = {}, 0
        for name, width in CELL_FIELDS.items():
            out[name] = logits[..., start:start + width]
            start += width
        return out

    def cell_head_params(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The cell head's weight (13, Dl) and bias (13,), for an LM's frozen copy."""
        return self.cell_head.weight.detach(), self.cell_head.bias.detach()
