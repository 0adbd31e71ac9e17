"""Projectors from vision tokens (B, N, Dv) to visual tokens in LM space (B, N', Dl).

Every projector is `up(down(x))`. For `lowrank` and for a `resampler` with a rank, `down`
ends in an r-dim bottleneck (r << Dl): that is the `project.down` / `project.up` cut, where the
edge sends r-dim codes and the receiver expands them (BottleNet, LLaVA-AlignedVQ).

| kind      | N'          | down                              | up          |
|-----------|-------------|-----------------------------------|-------------|
| linear    | N           | identity                          | Linear      |
| mlp       | N           | identity                          | MLP         |
| lowrank   | N           | Linear Dv -> r                    | Linear r->Dl|
| resampler | n_queries   | learned queries cross-attend (+ r)| Linear      |
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from splitvlm.model.layers import MLP, Attention

PROJECTOR_KINDS = ("linear", "mlp", "lowrank", "resampler")


@dataclass(frozen=True)
class ProjectorConfig:
    kind: str = "resampler"
    out_dim: int = 128  # Dl: width of visual tokens in LM space, shared by every LM
    n_queries: int = 9  # resampler only: N' learned queries (one per grid cell)
    rank: int | None = 32  # bottleneck width r (lowrank: required; resampler: optional)
    heads: int = 4

    def __post_init__(self) -> None:
        if self.kind not in PROJECTOR_KINDS:
            raise ValueError(f"projector kind={self.kind!r}; expected one of {PROJECTOR_KINDS}")
        if self.kind == "lowrank" and not self.rank:
            raise ValueError("projector kind='lowrank' needs rank > 0")
        if self.rank is not None and self.rank <= 0:
            raise ValueError(f"projector rank={self.rank} must be positive")

    @property
    def has_bottleneck(self) -> bool:
        return self.kind in ("lowrank", "resampler") and self.rank is not None


class Resampler(nn.Module):
    """Perceiver-style: n_queries learned queries cross-attend to the vision tokens."""

    def __init__(self, in_dim: int, cfg: ProjectorConfig) -> None:
        super().__init__()
        self.queries = nn.Parameter(torch.randn(1, cfg.n_queries, in_dim) * 0.02)
        self.norm_q, self.attn = nn.LayerNorm(in_dim), Attention(in_dim, cfg.heads)
        self.norm_x, self.mlp = nn.LayerNorm(in_dim), MLP(in_dim, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.queries.expand(x.shape[0], -1, -1)  # (B, N', Dv)
        q = q + self.attn(self.norm_q(q), context=x)
        return q + self.mlp(self.norm_x(q))  # (B, N', Dv)


class Projector(nn.Module):
    def __init__(self, in_dim: int, cfg: ProjectorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        mid = in_dim
        down: list[nn.Module] = []
        if cfg.kind == "resampler":
            down.append(Resampler(in_dim, cfg))
        if cfg.has_bottleneck:
            assert cfg.rank is not None
            down.append(nn.Linear(in_dim, cfg.rank))
            mid = cfg.rank
        self.down = nn.Sequential(*down)  # empty Sequential is the identity
        self.up: nn.Module = MLP(mid, 2) if cfg.kind == "mlp" else nn.Identity()
        self.out = nn.Linear(mid, cfg.out_dim)

    @property
    def down_dim(self) -> int:
        return self.out.in_features

    def project_up(self, codes: torch.Tensor) -> torch.Tensor:
        return self.out(self.up(codes))  # (B, N', Dl)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project_up(self.down(x))
