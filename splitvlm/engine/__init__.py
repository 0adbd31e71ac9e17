"""Continuous batching for the LMs of fog and cloud (torch; no transport).

    engine = Engine(lm, EngineConfig(max_batch=16), pad_id, eos_id); engine.start()
    handle = engine.submit(visual, prompt, deadline=time.monotonic() + 2.0)
    async for token in handle.atokens(): ...
    engine.stop()
"""

from splitvlm.engine.build import engine_for_tier
from splitvlm.engine.config import EngineConfig
from splitvlm.engine.engine import Engine, EngineStats
from splitvlm.engine.errors import BadRequest, EngineClosed, QueueFull
from splitvlm.engine.request import FinishReason, RequestHandle
from splitvlm.engine.stream import EngineGenerator

__all__ = [
    "BadRequest", "Engine", "EngineClosed", "EngineConfig", "EngineGenerator", "EngineStats",
    "FinishReason", "QueueFull", "RequestHandle", "engine_for_tier",
]
