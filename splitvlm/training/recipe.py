"""The recipe that produced the shipped checkpoints (`splitvlm train`), in one place.

Phase 1 pretrains the visual side on dense per-cell targets; phase 2 freezes it and trains
each LM on its cached tokens; phase 3 (`finetune`, not part of `all`) trains an LM on from its
checkpoint with another question mix; phase 4 (`grow`) grows the fog LM from the edge's and the
cloud LM from the fog's, then trains each on its source's weaknesses. Step counts were sized for
2 CPU cores (docs/models.md has the times); `--scale` multiplies them all.
"""

from __future__ import annotations

from pathlib import Path

import torch

from splitvlm.training.lm import PRETRAIN, SHORT_WEIGHTS, Mix, finetune_lm, grow_lm, train_lm
from splitvlm.training.loop import TrainConfig, log
from splitvlm.training.mining import Mining
from splitvlm.training.visual import train_visual

VISUAL = TrainConfig(steps=1000, lr=1.5e-3, eval_every=250)
LMS = {
    "edge": TrainConfig(steps=24000, lr=2e-3, eval_every=250),
    "fog": TrainConfig(steps=6000, lr=2e-3, eval_every=250),
    "cloud": TrainConfig(steps=1600, lr=2e-3, eval_every=250),
}
# The shipped LMs got their steps in legs, as the shared machine's time allowed; each resume
# (`--scale`) recomputes the cosine schedule for the new total, so the learning rate rose again
# at every resume (docs/models.md):
#   edge   4000-step schedule, resumed to 16000, then to 24000
#   fog    3500-step schedule, resumed towards 10500 for 500 steps, then to 6000
#   cloud  400 steps of a 1500-step schedule, resumed as 1000 steps, then extended to 1600

# Phase 3 (`--phase finetune`): the edge LM on from its checkpoint with `relate` (find an
# object, then read the cell beside it) weighed 4x more, half as many caption batches. After
# 24000 steps of the pretraining mix its held-out relate accuracy had stalled at 0.69 while
# every other type was >= 0.92 (docs/models.md).
FINETUNES = {
    "edge": (TrainConfig(steps=10000, lr=1e-3, warmup=50, eval_every=500),
             Mix(dict(SHORT_WEIGHTS) | {"relate": 8.0}, PRETRAIN.caption_share / 2)),
}
# The shipped edge LM got its fine-tune in two legs (fresh optimizer each):
#   4000 steps at lr 1e-3, then 6000 at 7e-4


# Phase 4 (`--phase grow`): each larger LM grows from the next smaller one, function-preserving
# (splitvlm/training/grow.py), so it starts at the smaller one's accuracy; it then trains on
# the smaller one's weaknesses: the mix weighs each type by its mined error rate, and a quarter
# of every batch replays questions it got wrong (splitvlm/training/mining.py), both re-mined
# every 1000 steps. From-scratch training could not get the larger LMs past the edge's
# accuracy on 2 cores (docs/models.md). The tiers grow in order: the cloud from the new fog.
GROWN_FROM = {"fog": "edge", "cloud": "fog"}
GROWTH = {
    "fog": TrainConfig(steps=5000, lr=7e-4, eval_every=500),
    # lr: Adam's step moves a wider LM's function more (muP scales it by 1/width); at 7e-4
    # the fog fell below the edge for its first ~1000 steps, so the cloud (2x wider) takes 2.5e-4.
    # fp32: bf16 autocast is 12x slower on this machine's CPU (no AVX-512 BF16), 2.3 s/step
    "cloud": TrainConfig(steps=2400, lr=2.5e-4, eval_every=400),
}
GROWTH_MIX = Mix(SHORT_WEIGHTS, caption_share=0.15)  # re-weighted at every mining
MINING = Mining(every=1000, per_type=200, replay_share=0.25)
GROWTH_NOISE = 0.01  # zero-sum split noise between a unit's copies (relative)
# After growth, the fog LM was 1 pt below the edge on `exist` (197 against 199 of 200) while
# ahead overall; a second, gentler leg with the same mining consolidates it.
FINETUNES["fog"] = (TrainConfig(steps=2000, lr=2e-4, warmup=50, eval_every=500), GROWTH_MIX)


def scaled(cfg: TrainConfig, scale: float) -> TrainConfig:
    import dataclasses

    return dataclasses.replace(cfg, steps=max(1, round(cfg.steps * scale)),
                               warmup=min(cfg.warmup, max(1, round(cfg.steps * scale) // 5)))


def train(phase: str, tiers: list[str], out: Path, runs: Path, scale: float = 1.0) -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    if phase in ("visual", "all"):
        doc = train_visual(scaled(VISUAL, scale), out, runs)
        log(f"visual side {doc['hash']}: cell accuracy {doc['cell_accuracy']:.4f}")
    if phase in ("lm", "all"):
        for tier in tiers or list(LMS):
            if tier not in LMS:
                raise ValueError(f"unknown LM tier {tier!r}; expected one of {sorted(LMS)}")
            doc = train_lm(tier, scaled(LMS[tier], scale), out, runs)
            log(f"lm {tier}: {doc['n_params']} parameters, {doc['train_seconds']} s")
    if phase == "grow":
        for tier in tiers or list(GROWTH):
            if tier not in GROWTH:
                raise ValueError(f"no growth for LM tier {tier!r}; the recipe grows "
                                 f"{sorted(GROWTH)}")
            doc = grow_lm(tier, GROWN_FROM[tier], scaled(GROWTH[tier], scale), GROWTH_MIX,
                          MINING, GROWTH_NOISE, out, runs)
            log(f"lm {tier}: grown from {GROWN_FROM[tier]}, {doc['n_params']} parameters, "
                f"{doc['train_seconds']} s")
    if phase == "finetune":
        for tier in tiers or list(FINETUNES):
            if tier not in FINETUNES:
                raise ValueError(f"no fine-tune for LM tier {tier!r}; the recipe has "
                                 f"{sorted(FINETUNES)}")
            cfg, mix = FINETUNES[tier]
            doc = finetune_lm(tier, scaled(cfg, scale), mix, out, runs,
                              MINING if tier in GROWTH else None)
            log(f"lm {tier}: fine-tuned to {doc['train_steps']} steps, {doc['train_seconds']} s")
