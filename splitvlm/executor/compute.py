"""What a tier can compute: visual stage ranges per precision, and (maybe) an LM.

The edge fills these with ONNX Runtime back ends, fog and cloud with torch; the executor
only sees these protocols. A tier that can answer first in a cascade also has a `scorer`: its
LM's whole answer with the answer's confidence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from splitvlm.data.camera import preprocess
from splitvlm.errors import BadRequest
from splitvlm.executor.status import EngineLoad
from splitvlm.executor.text import ShapesText, TextCodec
from splitvlm.plan.plan import Precision
from splitvlm.stages import MAX_ANSWER_TOKENS, StageGraph


class StageRunner(Protocol):
    """Runs a contiguous range of stages: the value at cut `start` -> the value at `stop`."""

    prefix_only: bool
    """It runs only ranges that start where its input is (the edge's ONNX graphs start at the
    pixels); a profile times its prefixes and takes the differences."""

    def run(self, value: Any, start: int, stop: int) -> Any: ...


class VisualRunner(StageRunner, Protocol):
    def run(self, value: np.ndarray, start: int, stop: int) -> np.ndarray:
        """The boundary at cut `start` (batch first) -> the boundary at cut `stop`."""
        ...


class Preprocessor:
    """The `preprocess` stage: image bytes -> (1, S, S, 3) uint8 pixels (numpy + PIL)."""

    prefix_only = False

    def __init__(self, graph: StageGraph) -> None:
        self.graph = graph

    def run(self, value: bytes, start: int, stop: int) -> np.ndarray:
        if (start, stop) != (self.graph.preprocess, self.graph.patch_embed):
            raise ValueError(f"the preprocessor runs stage {self.graph.preprocess} only, not "
                             f"{start}..{stop}")
        return preprocess(value, self.graph.image_size)[None]  # (1, S, S, 3) uint8


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
    stats: Callable[[], EngineLoad] | None = None  # the LM engine's load, for status
    scorer: AnswerScorer | None = None  # the LM with confidences (the edge, for cascades)
    text: TextCodec = field(default_factory=ShapesText)  # how the LM reads and spells
    max_answer_tokens: int = MAX_ANSWER_TOKENS  # the most answer tokens a request may ask
    # for (and the default); advertised in the tier's status

    def segments(self, start: int, stop: int, precision: Precision
                 ) -> list[tuple[int, int, StageRunner]]:
        """The runners that execute the non-LM stages [start, stop) at `precision`, each with
        its own range: `preprocess`, then the visual stages. BadRequest when this tier has no
        vision of that precision."""
        graph = self.graph
        out: list[tuple[int, int, StageRunner]] = []
        stop = min(stop, graph.prefill)
        if start == graph.preprocess < stop:
            out.append((start, graph.patch_embed, Preprocessor(graph)))
            start = graph.patch_embed
        if start < stop:
            runner = self.runners.get(precision)
            if runner is None:
                raise BadRequest(f"this tier has no {precision} vision; it runs "
                                 f"{sorted(self.runners)}")
            out.append((start, stop, runner))
        return out
