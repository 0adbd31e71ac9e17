"""The engine behind the executor's TokenGenerator protocol (splitvlm.executor.compute)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np

from splitvlm.engine.engine import Engine
from splitvlm.engine.request import FinishReason
from splitvlm.errors import DeadlineExceeded, NotAvailable


class EngineGenerator:
    """One engine request per `stream`; a consumer that stops early cancels its request."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def stream(
        self, visual: np.ndarray, prompt: list[int], max_new_tokens: int, deadline: float | None
    ) -> AsyncIterator[int]:
        """visual (1, N', Dl) or (N', Dl) float32 -> answer ids as produced. Raises QueueFull,
        DeadlineExceeded when the deadline cuts the answer, NotAvailable when the engine stops."""
        tokens = visual[0] if visual.ndim == 3 and visual.shape[0] == 1 else visual  # (N', Dl)
        handle = self.engine.submit(tokens, prompt, max_new_tokens, deadline)
        try:
            async for token in handle.atokens():
                yield token
        finally:
            handle.cancel()  # no-op once finished; frees the slot if the consumer left
        if handle.finish_reason is FinishReason.DEADLINE:
            raise DeadlineExceeded(f"deadline passed after {len(handle.output())} answer tokens")
        if handle.finish_reason is FinishReason.ABORTED:
            raise NotAvailable("the LM engine stopped before the answer was complete")
