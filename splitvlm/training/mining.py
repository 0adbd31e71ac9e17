"""Hard-example mining: ask an LM questions about training scenes and keep what it gets wrong.

A grown LM starts as good as the LM it was grown from; what it can still learn is where that
LM fails. `mine` measures the error rate per question type on fresh questions about the pool's
scenes (training scenes, never the held-out or validation streams) and returns the missed
questions themselves, which later batches replay (`HardSet`), and `weakness_mix` turns the
error rates into a question mix weighted toward the weak types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from splitvlm.data.questions import QA, QTYPES, ask
from splitvlm.data.scenes import Scene
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.evaluate import normalise
from splitvlm.model.lm import LM

WEAKNESS_GAIN = 35.0  # weight of a type = 1 + gain x its error rate (0.15 -> 6.25)
HARD_CAPACITY = 8192  # missed questions kept for replay; the newest mining wins


@dataclass(frozen=True)
class Mining:
    every: int = 1000  # steps between minings (and at the first step of a run or a resume)
    per_type: int = 200  # questions asked per type at each mining
    replay_share: float = 0.25  # share of a batch replaying missed questions of its kind

    def __post_init__(self) -> None:
        if self.every <= 0 or self.per_type <= 0 or not 0 <= self.replay_share <= 1:
            raise ValueError(f"Mining needs every > 0, per_type > 0, replay_share in 0..1: "
                             f"{self}")


@dataclass(frozen=True)
class Mined:
    error_by_type: dict[str, float]  # short-answer types and caption
    missed: list[tuple[int, QA]]  # (pool scene index, question) the LM answered wrong


@dataclass
class HardSet:
    """Missed questions, replayed as a share of short-answer batches."""

    items: list[tuple[int, QA]] = field(default_factory=list)

    def replace(self, missed: list[tuple[int, QA]]) -> None:
        self.items = missed[-HARD_CAPACITY:]

    def draw(self, n: int, rng: np.random.Generator, caption: bool) -> list[tuple[int, QA]]:
        pool = [item for item in self.items if (item[1].qtype == "caption") == caption]
        if not pool:
            return []
        return [pool[int(i)] for i in rng.integers(len(pool), size=n)]


@torch.no_grad()
def mine(lm: LM, scenes: list[Scene], tokens: torch.Tensor, per_type: int,
         rng: np.random.Generator, chunk: int = 512) -> Mined:
    """Ask `per_type` questions of every type about random pool scenes (tokens (n, N', Dl))."""
    asked: list[tuple[int, QA]] = []
    for qtype in QTYPES:
        while sum(qa.qtype == qtype for _, qa in asked) < per_type:
            i = int(rng.integers(len(scenes)))
            qa = ask(scenes[i], qtype, rng)
            if qa is not None:
                asked.append((i, qa))
    tok = Tokenizer()
    was_training = lm.training
    lm.eval()
    wrong: list[bool] = []
    for start in range(0, len(asked), chunk):
        part = asked[start:start + chunk]
        prompts = [tok.encode(qa.question) + [tok.ans_id] for _, qa in part]
        index = torch.tensor([i for i, _ in part])
        out = lm.generate(tokens[index], prompts, tok.pad_id, tok.eos_id)
        wrong += [normalise(tok.decode(ids)) != normalise(qa.answer)
                  for ids, (_, qa) in zip(out, part, strict=True)]
    lm.train(was_training)
    errors = {t: float(np.mean([w for w, (_, qa) in zip(wrong, asked, strict=True)
                                if qa.qtype == t])) for t in QTYPES}
    return Mined(errors, [item for item, w in zip(asked, wrong, strict=True) if w])


def weakness_weights(error_by_type: dict[str, float]) -> dict[str, float]:
    """Short-answer type weights, heavier where the LM is weaker."""
    return {t: 1.0 + WEAKNESS_GAIN * e for t, e in error_by_type.items() if t != "caption"}
