"""What a tier can compute: visual stage ranges per precision, and (maybe) an LM.

The edge fills these with ONNX Runtime back ends, fog and cloud with torch; the executor
only sees these protocols. A tier that can answer first in a cascade also has a `scorer`: its
LM's whole answer with the answer's confidence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from splitvlm.plan.plan import Precision
from splitvlm.stages import StageGraph


class VisualRunner(Protocol):
    def run(self, value: np.ndarray, start: int, stop: int) -> np.ndarray:
        """The boundary at cut `start` (batch first) -> the boundary at cut `stop`."""
        ...


class TokenGenerator(Protocol):
    def stream(
        self, visual: np.ndarray, prompt: list[int], max_new_tokens: int, deadline: float | None
    ) -> AsyncIterator[int]:
        """visual (1, N', Dl) float32 and question ids + <ans> -> answer ids as produced."""
        ...


class BlockingGenerator:
    """Wraps a blocking batch generate function; runs it off the event loop, one request."""

    def __init__(self, generate: Callable[[np.ndarray, list[list[int]], int], list[list[int]]]):
        self._generate = generate

    async def stream(
        self, visual: np.ndarray, prompt: list[int], max_new_tokens: int, deadline: float | None
    ) -> AsyncIterator[int]:
        tokens = await asyncio.to_thread(self._generate, visual, [prompt], max_new_tokens)
        for token in tokens[0]:
            yield token


class AnswerScorer(Protocol):
    async def answer(self, visual: np.ndarray, prompt: list[int], max_new_tokens: int
                     ) -> tuple[list[int], float]:
        """visual (1, N', Dl) float32 -> (answer ids, probability of that greedy answer)."""
        ...


ScoredGenerate = Callable[[np.ndarray, list[list[int]], int], list[tuple[list[int], float]]]


class BlockingScorer:
    """Wraps a blocking batch `generate_scored`; runs it off the event loop, one request."""

    def __init__(self, generate_scored: ScoredGenerate) -> None:
        self._generate_scored = generate_scored

    async def answer(self, visual: np.ndarray, prompt: list[int], max_new_tokens: int
                     ) -> tuple[list[int], float]:
        rows = await asyncio.to_thread(self._generate_scored, visual, [prompt], max_new_tokens)
        return rows[0]


@dataclass
class TierCompute:
    graph: StageGraph
    visual_version: str
    runners: dict[Precision, VisualRunner] = field(default_factory=dict)
    lm: TokenGenerator | None = None
    lm_name: str = ""  # which LM of the family this tier runs (edge | fog | cloud)
    stats: Callable[[], dict[str, float]] | None = None  # the LM engine's load, for status
    scorer: AnswerScorer | None = None  # the LM with confidences (the edge, for cascades)
