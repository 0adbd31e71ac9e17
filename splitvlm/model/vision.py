"""ViT vision encoder whose stages are individually addressable: `patch_embed`, `blocks[i]`.

Input is uint8 pixels (B, S, S, 3) at model resolution: the `preprocess` boundary. A tier
that runs only a slice calls `patch_embed` and/or a range of `blocks` directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from splitvlm.model.layers import Block


@dataclass(frozen=True)
class VisionConfig:
    image_size: int = 64  # model resolution S; the edge downscales camera images to S x S
    patch_size: int = 8  # P: the encoder sees (S/P)^2 tokens
    dim: int = 128  # Dv, token width
    depth: int = 4  # L blocks; a cut is allowed after any of them
    heads: int = 4
    mlp_ratio: int = 4

    def __post_init__(self) -> None:
        if self.image_size % self.patch_size:
            raise ValueError(
                f"image_size={self.image_size} must be a multiple of patch_size={self.patch_size}"
            )
        if self.depth < 1:
            raise ValueError(f"depth={self.depth} must be >= 1")

    @property
    def n_tokens(self) -> int:
        return (self.image_size // self.patch_size) ** 2


class PatchEmbed(nn.Module):
    """uint8 pixels (B, S, S, 3) -> tokens (B, N, Dv), with learned positions."""

    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.proj = nn.Linear(3 * cfg.patch_size**2, cfg.dim)
        self.pos = nn.Parameter(torch.zeros(1, cfg.n_tokens, cfg.dim))
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        p, g = self.cfg.patch_size, self.cfg.image_size // self.cfg.patch_size
        x = pixels.float() / 127.5 - 1.0  # (B, S, S, 3) in [-1, 1]
        b = x.shape[0]
        x = x.reshape(b, g, p, g, p, 3).permute(0, 1, 3, 2, 4, 5)  # (B, g, g, P, P, 3)
        x = x.reshape(b, g * g, p * p * 3)  # (B, N, 3P^2)
        return self.proj(x) + self.pos  # (B, N, Dv)


class VisionEncoder(nn.Module):
    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.patch_embed = PatchEmbed(cfg)
        self.blocks = nn.ModuleList(
            Block(cfg.dim, cfg.heads, cfg.mlp_ratio) for _ in range(cfg.depth)
        )
        self.norm = nn.LayerNorm(cfg.dim)  # applied by the projector's first stage

    def run_blocks(self, tokens: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """Blocks [start, stop) on tokens (B, N, Dv) -> (B, N, Dv)."""
        for block in self.blocks[start:stop]:
            tokens = block(tokens)
        return tokens

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        tokens = self.patch_embed(pixels)
        return self.norm(self.run_blocks(tokens, 0, self.cfg.depth))  # (B, N, Dv)
