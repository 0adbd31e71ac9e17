"""The LM forwards of one engine step: a bucketed prefill and a batched decode.

Prefill lays out a group exactly as LM.generate does: [visual | left-padded prompt], pads
masked as keys, position ids from the cumulative sum of the valid mask.
"""

from __future__ import annotations

import torch

from splitvlm.engine.request import Request
from splitvlm.model.lm import KV, LM


def prefill(
    lm: LM, group: list[Request], width: int, pad_id: int
) -> tuple[torch.Tensor, KV, torch.Tensor, torch.Tensor]:
    """Prefill requests whose prompts pad to `width` W. Returns the logits at the last prompt
    token (B, V), the cache (L, B, H, Nv+W, hd), key_valid (B, Nv+W) and last positions (B,)."""
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
    logits, past = lm.forward(h, positions, None, key_valid)  # logits (B, Nv+W, V)
    return logits[:, -1], past, key_valid, positions[:, -1]


def decode(
    lm: LM, tokens: torch.Tensor, positions: torch.Tensor, past: KV, key_valid: torch.Tensor
) -> tuple[torch.Tensor, KV, torch.Tensor]:
    """Feed one token per row: tokens, positions (B,); past (L, B, H, T, hd); key_valid
    (B, T). Returns the next logits (B, V), the cache (L, B, H, T+1, hd), key_valid (B, T+1)."""
    key_valid = torch.cat([key_valid, torch.ones(len(tokens), 1, dtype=torch.bool)], dim=1)
    logits, past = lm.forward(lm.tok_emb(tokens[:, None]), positions[:, None], past, key_valid)
    return logits[:, -1], past, key_valid
