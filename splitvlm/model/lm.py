"""Decoder-only language model over [visual tokens | question | <ans> | answer], with a KV cache.

Visual tokens (B, Nv, Dl) come from the shared visual side in LM space, so any LM of the family
reads the same boundary tensor. Each LM reads them through a frozen copy of the visual side's
cell head (Dl -> occupied / shape / colour / size logits): their per-field probabilities are
embedded beside the tokens themselves (a clean, low-dimensional view the LM learns to use in
a few hundred steps instead of thousands), and an "object rank" embedding marks the k-th
occupied cell in reading order (an integer path: argmax -> cumsum), which fixes caption word
order and `where`.

Batched generation left-pads the text: pads sit between the visual tokens and the question,
are masked out as keys, and are skipped by the position ids, so a padded row computes what the
unpadded row computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from splitvlm.data.scenes import CELL_FIELDS
from splitvlm.model.layers import MLP, Attention
from splitvlm.stages import MAX_ANSWER_TOKENS

KV = tuple[torch.Tensor, torch.Tensor]  # keys, values: each (L, B, H, T, hd)
VISUAL_IN_STD = 0.05  # per-dimension std of projected visual tokens at init


@dataclass(frozen=True)
class LMConfig:
    vocab_size: int
    dim: int  # d_model
    depth: int  # number of decoder blocks
    heads: int
    mlp_ratio: int = 4
    max_len: int = 64  # positions: 9 visual + question + answer must fit
    visual_dim: int = 128  # Dl, must equal the projector's out_dim
    n_visual: int = 9  # N' visual tokens
    max_rank: int = 5  # object ranks 1..max_rank; 0 marks an empty cell

    def __post_init__(self) -> None:
        for name in ("vocab_size", "dim", "depth", "heads", "max_len"):
            if getattr(self, name) <= 0:
                raise ValueError(f"LMConfig.{name}={getattr(self, name)} must be positive")
        if self.dim % self.heads:
            raise ValueError(f"LMConfig.dim={self.dim} not divisible by heads={self.heads}")


class CausalBlock(nn.Module):
    """Pre-norm causal block; LM.forward_segments runs it (attention per segment, the rest on
    the tokens of all segments at once)."""

    def __init__(self, cfg: LMConfig) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(cfg.dim), Attention(cfg.dim, cfg.heads)
        self.norm2, self.mlp = nn.LayerNorm(cfg.dim), MLP(cfg.dim, cfg.mlp_ratio)


@dataclass(frozen=True)
class Segment:
    """Rows that share one layout: inputs h (B, T, d) at positions (B, T), their cache
    (L, B, H, Tp, hd) or None, and key_valid (B, Tp + T) marking real keys (None: all)."""

    h: torch.Tensor
    positions: torch.Tensor
    past: KV | None = None
    key_valid: torch.Tensor | None = None

    @property
    def tokens(self) -> int:
        return self.h.shape[0] * self.h.shape[1]

    def mask(self) -> torch.Tensor:
        """(1 or B, 1, T, Tp + T): causal, and real keys only."""
        t = self.h.shape[1]
        tp = 0 if self.past is None else self.past[0].shape[3]
        mask = torch.ones(t, tp + t, dtype=torch.bool, device=self.h.device).tril(diagonal=tp)
        mask = mask[None, None]  # (1, 1, T, Tp+T)
        if self.key_valid is not None:
            mask = mask & self.key_valid[:, None, None, :]
        return mask


class LM(nn.Module):
    cell_weight: torch.Tensor  # (13, Dl) buffer: the visual side's cell head, frozen
    cell_bias: torch.Tensor  # (13,)

    def __init__(self, cfg: LMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.dim)
        # Visual tokens arrive with norms ~80; normalise them and start their projection as
        # small as the token embeddings, or the cell position and rank are drowned at first.
        self.visual_in = nn.Sequential(nn.LayerNorm(cfg.visual_dim),
                                       nn.Linear(cfg.visual_dim, cfg.dim))
        self.rank_emb = nn.Embedding(cfg.max_rank + 1, cfg.dim)
        self.attr_in = nn.Linear(sum(CELL_FIELDS.values()), cfg.dim)
        # frozen copy of the visual side's cell head: (fields, Dl) and (fields,)
        self.register_buffer("cell_weight", torch.zeros(sum(CELL_FIELDS.values()),
                                                        cfg.visual_dim))
        self.register_buffer("cell_bias", torch.zeros(sum(CELL_FIELDS.values())))
        self.blocks = nn.ModuleList(CausalBlock(cfg) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.dim)
        self.apply(self._init)
        projection = self.visual_in[1]
        assert isinstance(projection, nn.Linear)
        nn.init.normal_(projection.weight, std=VISUAL_IN_STD / cfg.visual_dim**0.5)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear | nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def set_cell_head(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Copy the visual side's cell head (VisualSide.cell_head), frozen."""
        self.cell_weight.copy_(weight)
        self.cell_bias.copy_(bias)

    def embed_visual(self, visual: torch.Tensor) -> torch.Tensor:
        """visual (B, Nv, Dl) -> (B, Nv, d): tokens + cell attributes + object rank."""
        logits = visual @ self.cell_weight.T + self.cell_bias  # (B, Nv, 13)
        fields = torch.split(logits, list(CELL_FIELDS.values()), dim=-1)
        attrs = torch.cat([f.softmax(dim=-1) for f in fields], dim=-1)  # (B, Nv, 13)
        occupied = fields[0].argmax(-1)  # (B, Nv) 0/1
        rank = (torch.cumsum(occupied, dim=-1) * occupied).clamp(max=self.cfg.max_rank)
        return self.visual_in(visual) + self.attr_in(attrs) + self.rank_emb(rank)

    def forward(
        self,
        h: torch.Tensor,
        positions: torch.Tensor,
        past: KV | None = None,
        key_valid: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, KV]:
        """h (B, T, d) embedded inputs at `positions` (B, T); past keys/values (L, B, H, Tp, hd);
        key_valid (B, Tp + T) marks real keys. Returns logits (B, T, V) and the new cache."""
        return self.forward_segments([Segment(h, positions, past, key_valid)])[0]

    def forward_segments(self, segments: list[Segment]) -> list[tuple[torch.Tensor, KV]]:
        """Several segments in one pass (e.g. prompts to prefill beside rows decoding one
        token): norms, projections and MLPs run once over the tokens of all segments, attention
        per segment. Each segment gets forward's logits (B, T, V) and cache (L, B, H, Tp+T, hd)."""
        if not segments:
            return []
        d, sizes = self.cfg.dim, [s.tokens for s in segments]
        masks = [s.mask() for s in segments]
        x = _join([(s.h + self.pos_emb(s.positions)).reshape(-1, d) for s in segments])  # (M, d)
        keys: list[list[torch.Tensor]] = [[] for _ in segments]
        values: list[list[torch.Tensor]] = [[] for _ in segments]
        for i, block in enumerate(self.blocks):
            assert isinstance(block, CausalBlock)
            h = block.norm1(x)
            q, kv = _parts(block.attn.q(h), sizes), _parts(block.attn.kv(h), sizes)
            mixed = []
            for j, seg in enumerate(segments):
                b, t = seg.h.shape[:2]
                k, v = (block.attn.split(z) for z in kv[j].view(b, t, 2 * d).chunk(2, dim=-1))
                if seg.past is not None:  # (B, H, Tp + T, hd)
                    k = torch.cat([seg.past[0][i], k], dim=2)
                    v = torch.cat([seg.past[1][i], v], dim=2)
                keys[j].append(k)
                values[j].append(v)
                q_j = block.attn.split(q[j].view(b, t, d))
                mixed.append(block.attn.mix(q_j, k, v, masks[j]).reshape(b * t, d))
            x = x + block.attn.out(_join(mixed))
            x = x + block.mlp(block.norm2(x))
        logits = _parts(self.norm(x) @ self.tok_emb.weight.T, sizes)  # tied head, (M, V)
        return [(lg.view(*seg.h.shape[:2], -1), (torch.stack(k), torch.stack(v)))
                for lg, seg, k, v in zip(logits, segments, keys, values, strict=True)]

    def sequence_logits(self, visual: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: visual (B, Nv, Dl), ids (B, T) right-padded -> logits (B, Nv+T, V)."""
        h = torch.cat([self.embed_visual(visual), self.tok_emb(ids)], dim=1)
        positions = torch.arange(h.shape[1], device=h.device).expand(h.shape[0], -1)
        return self.forward(h, positions)[0]

    @torch.no_grad()
    def generate(
        self, visual: torch.Tensor, prompts: list[list[int]], pad_id: int, eos_id: int,
        max_new_tokens: int = MAX_ANSWER_TOKENS,
    ) -> list[list[int]]:
        """Greedy answers. visual (B, Nv, Dl); prompts: question ids + <ans> per row."""
        return [ids for ids, _ in self.generate_scored(visual, prompts, pad_id, eos_id,
                                                        max_new_tokens)]

    @torch.no_grad()
    def generate_scored(
        self, visual: torch.Tensor, prompts: list[list[int]], pad_id: int, eos_id: int,
        max_new_tokens: int = MAX_ANSWER_TOKENS,
    ) -> list[tuple[list[int], float]]:
        """Greedy answers with their confidence: the probability the LM gives its own greedy
        answer (the product over its tokens, <eos> included, of the chosen token's softmax)."""
        b, width = len(prompts), max(len(p) for p in prompts)
        ids = torch.full((b, width), pad_id, dtype=torch.long)
        valid = torch.zeros(b, width, dtype=torch.bool)
        for row, prompt in enumerate(prompts):  # left-pad the text
            ids[row, width - len(prompt):] = torch.tensor(prompt)
            valid[row, width - len(prompt):] = True
        key_valid = torch.cat([torch.ones(b, self.cfg.n_visual, dtype=torch.bool), valid], 1)
        positions = (key_valid.long().cumsum(-1) - 1).clamp(min=0)  # (B, Nv+W)
        h = torch.cat([self.embed_visual(visual), self.tok_emb(ids)], dim=1)
        logits, past = self.forward(h, positions, None, key_valid)
        return self.decode_loop(logits[:, -1], past, key_valid, positions[:, -1], eos_id,
                                max_new_tokens)

    def decode_loop(
        self, logits: torch.Tensor, past: KV, key_valid: torch.Tensor, last_pos: torch.Tensor,
        eos_id: int, max_new_tokens: int,
    ) -> list[tuple[list[int], float]]:
        """Greedy tokens per row from the last prompt logits (B, V), with their confidence."""
        b = logits.shape[0]
        out: list[list[int]] = [[] for _ in range(b)]
        log_p = torch.zeros(b, dtype=torch.float64)
        done = torch.zeros(b, dtype=torch.bool)
        for _ in range(max_new_tokens):
            token = logits.argmax(-1)  # (B,)
            chosen = logits.float().log_softmax(-1).gather(1, token[:, None])[:, 0]  # (B,)
            log_p += torch.where(done, 0.0, chosen.double())
            for row in range(b):
                if not done[row]:
                    out[row].append(int(token[row]))
            done |= token == eos_id
            if bool(done.all()):
                break
            last_pos = last_pos + 1
            key_valid = torch.cat([key_valid, torch.ones(b, 1, dtype=torch.bool)], dim=1)
            step_logits, past = self.forward(
                self.tok_emb(token[:, None]), last_pos[:, None], past, key_valid
            )
            logits = step_logits[:, -1]
        return [(row, float(p)) for row, p in zip(out, log_p.exp().tolist(), strict=True)]


def _join(parts: list[torch.Tensor]) -> torch.Tensor:
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def _parts(x: torch.Tensor, sizes: list[int]) -> list[torch.Tensor] | tuple[torch.Tensor, ...]:
    return [x] if len(sizes) == 1 else x.split(sizes)
