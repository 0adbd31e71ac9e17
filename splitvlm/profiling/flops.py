"""Analytic FLOPs per stage, from the configs alone (a multiply-add counts 2 FLOPs).

    linear over M rows, in -> out        2·M·in·out
    patch_embed                          2·N·3P²·D                      (a linear over N patches)
    attention, Nq queries over Nk keys   2·Nq·D² (Q) + 4·Nkv·D² (K, V) + 4·Nq·Nk·D (scores,
                                         mixing) + 2·Nq·D² (out); Nkv rows get new K/V
    ViT block (self-attention, Nq=Nk=N)  8·N·D² + 4·N²·D + 4·r·N·D²     (r = mlp ratio)
    project.down, resampler              Q queries cross-attend to N tokens: 4·Q·D² + 4·N·D² +
                                         4·Q·N·D, MLP ratio 2: 8·Q·D², bottleneck 2·Q·D·rank
    project.down, lowrank                2·N·D·rank; linear / mlp: identity, 0
    project.up                           2·N'·r_in·Dl (+ 8·N'·r_in² for the mlp kind)
    LM prefill over T = N' + text        2·N'·Dl·d (visual_in) + 2·N'·Dl·13 (cell-head read)
                                         + 2·N'·13·d (attribute embedding) +
                                         depth·(8·T·d² + 4·T²·d + 4·r·T·d²) + 2·T·d·V (tied
                                         head, on every position as LM.forward computes it)
    LM decode, one token, K keys         depth·(8·d² + 4·K·d + 4·r·d²) + 2·d·V

Not counted: biases, LayerNorm, softmax, GELU, embedding look-ups and the pixel normalisation,
so the counts equal torch's FlopCounterMode (matmuls only). `preprocess` (JPEG decode +
resize) has no FLOP count (None). Decode is counted for the first generated token: K = T + 1.
"""

from __future__ import annotations

from splitvlm.model.lm import LMConfig
from splitvlm.model.projector import ProjectorConfig
from splitvlm.model.vision import VisionConfig
from splitvlm.model.vlm import CELL_HEAD_WIDTH
from splitvlm.stages import StageKind

PROMPT_TOKENS = 8  # a typical question + <ans>, in tokens


def linear_flops(rows: int, d_in: int, d_out: int) -> int:
    return 2 * rows * d_in * d_out


def mlp_flops(rows: int, dim: int, ratio: int) -> int:
    return 2 * linear_flops(rows, dim, ratio * dim)  # dim -> r·dim -> dim: 4·r·rows·dim²


def attention_flops(n_q: int, n_kv_new: int, n_keys: int, dim: int) -> int:
    """n_q queries; K/V projected for n_kv_new rows; every query attends to n_keys keys."""
    projections = 2 * linear_flops(n_q, dim, dim) + linear_flops(n_kv_new, dim, 2 * dim)
    return projections + 4 * n_q * n_keys * dim


def patch_embed_flops(v: VisionConfig) -> int:
    return linear_flops(v.n_tokens, 3 * v.patch_size**2, v.dim)


def vit_block_flops(v: VisionConfig) -> int:
    n, d = v.n_tokens, v.dim
    return attention_flops(n, n, n, d) + mlp_flops(n, d, v.mlp_ratio)


def project_down_flops(v: VisionConfig, p: ProjectorConfig) -> int:
    n, d = v.n_tokens, v.dim
    if p.kind == "lowrank":
        assert p.rank is not None
        return linear_flops(n, d, p.rank)
    if p.kind != "resampler":
        return 0
    q = p.n_queries
    flops = attention_flops(q, n, n, d) + mlp_flops(q, d, 2)
    return flops + (linear_flops(q, d, p.rank) if p.rank else 0)


def project_up_flops(v: VisionConfig, p: ProjectorConfig) -> int:
    n_visual = p.n_queries if p.kind == "resampler" else v.n_tokens
    mid = p.rank if p.has_bottleneck and p.rank else v.dim
    up = mlp_flops(n_visual, mid, 2) if p.kind == "mlp" else 0
    return up + linear_flops(n_visual, mid, p.out_dim)


def prefill_tokens(lm: LMConfig, prompt_tokens: int = PROMPT_TOKENS) -> int:
    return lm.n_visual + prompt_tokens


def lm_prefill_flops(lm: LMConfig, prompt_tokens: int = PROMPT_TOKENS) -> int:
    t, d = prefill_tokens(lm, prompt_tokens), lm.dim
    block = attention_flops(t, t, t, d) + mlp_flops(t, d, lm.mlp_ratio)
    head = linear_flops(t, d, lm.vocab_size)
    visual_in = linear_flops(lm.n_visual, lm.visual_dim, d)
    cells = linear_flops(lm.n_visual, lm.visual_dim, CELL_HEAD_WIDTH)  # the frozen cell head
    attrs = linear_flops(lm.n_visual, CELL_HEAD_WIDTH, d)  # its probabilities, embedded
    return visual_in + cells + attrs + lm.depth * block + head


def lm_decode_flops(lm: LMConfig, kv_len: int) -> int:
    """One new token attending to kv_len keys (its own included)."""
    d = lm.dim
    block = attention_flops(1, 1, kv_len, d) + mlp_flops(1, d, lm.mlp_ratio)
    return lm.depth * block + linear_flops(1, d, lm.vocab_size)


def visual_stage_flops(v: VisionConfig, p: ProjectorConfig, kind: StageKind) -> int | None:
    """FLOPs of one visual stage (every vision block costs the same); None for preprocess."""
    by_kind = {
        StageKind.PATCH_EMBED: patch_embed_flops(v), StageKind.VISION: vit_block_flops(v),
        StageKind.PROJECT_DOWN: project_down_flops(v, p),
        StageKind.PROJECT_UP: project_up_flops(v, p),
    }
    if kind is StageKind.PREPROCESS:
        return None
    if kind not in by_kind:
        raise ValueError(f"stage {kind} is not a visual stage")
    return by_kind[kind]
