"""The inputs of one engine step's forward: prompts to prefill and the running batch's next
tokens, as segments of one LM.forward_segments pass (the projections and MLPs of all their
tokens run together, so admitting requests costs no forward of its own).

Prefill lays out a group exactly as LM.generate does: [visual | left-padded prompt], pads
masked as keys, position ids from the cumulative sum of the valid mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from splitvlm.engine.request import Request
from splitvlm.model.lm import KV, LM, Segment


@dataclass(frozen=True)
class Prefill:
    """A group of admitted requests whose prompts pad to the same width W."""

    group: list[Request]
    segment: Segment  # h (B, Nv+W, d); key_valid (B, Nv+W)
    last_pos: torch.Tensor  # (B,) position of each row's last prompt token


def prefill(lm: LM, group: list[Request], width: int, pad_id: int) -> Prefill:
    b = len(group)
    ids = torch.full((b, width), pad_id, dtype=torch.long)  # (B, W)
    valid = torch.zeros(b, width, dtype=torch.bool)  # (B, W)
    for row, request in enumerate(group):
        ids[row, width - len(request.prompt):] = torch.tensor(request.prompt)
        valid[row, width - len(request.prompt):] = True
    key_valid = torch.cat([torch.ones(b, lm.cfg.n_visual, dtype=torch.bool), valid], 1)
    positions = (key_valid.long().cumsum(-1) - 1).clamp(min=0)  # (B, Nv+W)
    visual = torch.stack([r.visual for r in group])  # (B, Nv, Dl)
    h = torch.cat([lm.embed_visual(visual), lm.tok_emb(ids)], dim=1)  # (B, Nv+W, d)
    return Prefill(group, Segment(h, positions, None, key_valid), positions[:, -1])


def decode(lm: LM, tokens: torch.Tensor, positions: torch.Tensor, past: KV,
           key_valid: torch.Tensor) -> Segment:
    """One token per row: tokens, positions (B,); past (L, B, H, T, hd); key_valid (B, T).
    The segment's key_valid is (B, T+1)."""
    key_valid = torch.cat([key_valid, torch.ones(len(tokens), 1, dtype=torch.bool)], dim=1)
    return Segment(lm.tok_emb(tokens[:, None]), positions[:, None], past, key_valid)
