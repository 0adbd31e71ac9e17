"""`splitvlm eval`: exact-match accuracy per question type on the fixed held-out set.

Overall accuracy is the mean of the nine per-type accuracies (../shared/shapes-vqa.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from splitvlm.data.questions import QTYPES
from splitvlm.data.sets import Sample

# pixels (B, S, S, 3) uint8 and questions -> answer strings
AnswerFn = Callable[[np.ndarray, list[str]], list[str]]


@dataclass(frozen=True)
class Score:
    overall: float
    by_type: dict[str, float]
    n: int

    def to_dict(self) -> dict[str, object]:
        return {"overall": self.overall, "by_type": self.by_type, "n": self.n}


def normalise(text: str) -> str:
    return " ".join(text.split())


def score(samples: Sequence[Sample], answers: Sequence[str]) -> Score:
    right: dict[str, list[bool]] = defaultdict(list)
    for sample, answer in zip(samples, answers, strict=True):
        right[sample.qa.qtype].append(normalise(answer) == normalise(sample.qa.answer))
    by_type = {t: float(np.mean(right[t])) for t in QTYPES if right[t]}
    return Score(float(np.mean(list(by_type.values()))), by_type, len(samples))


def evaluate(answer: AnswerFn, samples: Sequence[Sample], batch: int = 256,
             size: int = 64) -> Score:
    answers: list[str] = []
    for start in range(0, len(samples), batch):
        chunk = samples[start:start + batch]
        pixels = np.stack([s.image(size) for s in chunk])  # (B, S, S, 3) uint8
        answers += answer(pixels, [s.qa.question for s in chunk])
    return score(samples, answers)
