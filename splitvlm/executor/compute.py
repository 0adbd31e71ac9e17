"""What a tier can compute: visual stage ranges per precision, and (maybe) an LM.

The edge fills these with ONNX Runtime back ends, fog and cloud with torch; the executor
only sees these two protocols.
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


@dataclass
class TierCompute:
    graph: StageGraph
    visual_version: str
    runners: dict[Precision, VisualRunner] = field(default_factory=dict)
    lm: TokenGenerator | None = None
    lm_name: str = ""  # which LM of the family this tier runs (edge | fog | cloud)
    stats: Callable[[], dict[str, float]] | None = None  # the LM engine's load, for status
