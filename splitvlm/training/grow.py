"""Grow an LM into a wider and deeper one that computes the same function (Net2Net, bert2BERT).

Width: every unit of the smaller LM is duplicated `factor` times, on every axis at once.
  - The residual stream of width d becomes [x, x, ...] (copies side by side). A LayerNorm sees
    the same mean and variance, so its output is the copies of the old output.
  - Attention keeps its head width and gets `factor` times the heads: new heads
    factor*h .. factor*h + factor-1 are copies of old head h, so every score is unchanged.
  - A linear layer copies its rows for duplicated outputs, and splits each input column
    among the input's copies. The split is 1/factor each plus a zero-sum noise (+e, -e), so the
    copies differ, and get different gradients, while the function stays exactly the same.
  - The output head is tied to the token embedding, whose columns are copied, so the logits
    would come out `factor` times larger. The final LayerNorm's scale and shift are divided by
    `factor` instead.
Depth: new blocks whose output projections (attention's and the MLP's) start at zero are the
identity on the residual stream. They are spread evenly between the old blocks.
"""

from __future__ import annotations

import torch
from torch import nn

from splitvlm.model.lm import LM, CausalBlock, LMConfig

Index = torch.Tensor  # (new units,) long: the old unit each new unit copies


def grow(small: LM, cfg: LMConfig, noise: float = 0.0, seed: int = 0) -> LM:
    """A `cfg`-sized LM computing what `small` computes (logits equal to rounding).

    cfg.dim must be an integer multiple of small's dim, with the same head width and at
    least small's depth; `noise` is the zero-sum split noise, relative to each weight's
    magnitude (0 copies exactly)."""
    factor = _check(small.cfg, cfg)
    gen = torch.Generator().manual_seed(seed)
    big = LM(cfg)
    old_d, hd = small.cfg.dim, small.cfg.dim // small.cfg.heads
    resid = torch.arange(cfg.dim) % old_d  # (d',) residual copies side by side
    heads = (torch.arange(cfg.dim) // hd // factor) * hd + torch.arange(cfg.dim) % hd
    hidden = torch.arange(cfg.mlp_ratio * cfg.dim) % (small.cfg.mlp_ratio * old_d)
    grown = _Grower(factor, noise, gen)
    with torch.no_grad():
        big.tok_emb.weight.copy_(small.tok_emb.weight[:, resid])
        big.pos_emb.weight.copy_(small.pos_emb.weight[:, resid])
        big.rank_emb.weight.copy_(small.rank_emb.weight[:, resid])
        big.visual_in[0].load_state_dict(small.visual_in[0].state_dict())
        grown.linear(big.visual_in[1], small.visual_in[1], out=resid, inp=None)
        grown.linear(big.attr_in, small.attr_in, out=resid, inp=None)
        big.cell_weight.copy_(small.cell_weight)
        big.cell_bias.copy_(small.cell_bias)
        old_at = _placement(small.cfg.depth, cfg.depth)
        for new_i, block in enumerate(big.blocks):
            assert isinstance(block, CausalBlock)
            if new_i in old_at:
                old = small.blocks[old_at.index(new_i)]
                assert isinstance(old, CausalBlock)
                grown.block(block, old, resid, heads, hidden)
            else:
                _zero_output(block)
        _copy_norm(big.norm, small.norm, resid, scale=1.0 / factor)
    return big.eval()


def _check(small: LMConfig, cfg: LMConfig) -> int:
    if cfg.dim % small.dim:
        raise ValueError(f"grown dim={cfg.dim} is not a multiple of dim={small.dim}")
    if cfg.dim // cfg.heads != small.dim // small.heads:
        raise ValueError(f"grown head width {cfg.dim // cfg.heads} differs from "
                         f"{small.dim // small.heads}: grow heads with dim")
    if cfg.depth < small.depth:
        raise ValueError(f"grown depth={cfg.depth} is below depth={small.depth}")
    same = ("vocab_size", "max_len", "visual_dim", "n_visual", "max_rank", "mlp_ratio")
    for name in same:
        if getattr(cfg, name) != getattr(small, name):
            raise ValueError(f"grown {name}={getattr(cfg, name)} differs from "
                             f"{getattr(small, name)}; growth keeps it")
    return cfg.dim // small.dim


def _placement(old_depth: int, new_depth: int) -> list[int]:
    """Where the old blocks sit among the new: spread evenly, the first one first."""
    return [i * new_depth // old_depth for i in range(old_depth)]


class _Grower:
    def __init__(self, factor: int, noise: float, gen: torch.Generator) -> None:
        self.factor, self.noise, self.gen = factor, noise, gen

    def linear(self, new: nn.Module, old: nn.Module, out: Index | None, inp: Index | None
               ) -> None:
        """new.weight[i', j'] = old.weight[out[i'], inp[j']] / copies(inp[j']) (+ zero-sum
        noise across those copies); bias copied by out."""
        assert isinstance(new, nn.Linear) and isinstance(old, nn.Linear)
        w = old.weight if out is None else old.weight[out]  # (out', in)
        if inp is not None:
            w = self._split(w, inp)
        new.weight.copy_(w)
        if old.bias is not None and new.bias is not None:
            new.bias.copy_(old.bias if out is None else old.bias[out])

    def _split(self, w: torch.Tensor, inp: Index) -> torch.Tensor:
        """(out', in) -> (out', in'): each input column shared among its copies."""
        shares = torch.full((w.shape[0], len(inp)), 1.0 / self.factor)
        if self.noise:
            e = torch.randn(w.shape[0], len(inp), generator=self.gen) * self.noise
            by_old = torch.zeros(w.shape[0], w.shape[1]).index_add_(1, inp, e)
            shares += e - by_old[:, inp] / self.factor  # each old column's copies sum to 1
        return w[:, inp] * shares

    def block(self, new: CausalBlock, old: CausalBlock, resid: Index, heads: Index,
              hidden: Index) -> None:
        _copy_norm(new.norm1, old.norm1, resid)
        _copy_norm(new.norm2, old.norm2, resid)
        old_d = old.attn.q.in_features
        self.linear(new.attn.q, old.attn.q, out=heads, inp=resid)
        self.linear(new.attn.kv, old.attn.kv, out=torch.cat([heads, heads + old_d]), inp=resid)
        self.linear(new.attn.out, old.attn.out, out=resid, inp=heads)
        self.linear(new.mlp[0], old.mlp[0], out=hidden, inp=resid)
        self.linear(new.mlp[2], old.mlp[2], out=resid, inp=hidden)


def _copy_norm(new: nn.LayerNorm, old: nn.LayerNorm, resid: Index, scale: float = 1.0) -> None:
    new.weight.copy_(old.weight[resid] * scale)
    new.bias.copy_(old.bias[resid] * scale)


def _zero_output(block: CausalBlock) -> None:
    """The block adds nothing to the residual stream until training moves it."""
    for layer in (block.attn.out, block.mlp[2]):
        assert isinstance(layer, nn.Linear)
        nn.init.zeros_(layer.weight)
        nn.init.zeros_(layer.bias)
