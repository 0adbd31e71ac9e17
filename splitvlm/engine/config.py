"""Bounds of the continuous-batching engine, checked on construction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from splitvlm.stages import MAX_ANSWER_TOKENS

KV_TOKENS_PER_SLOT = 64  # a whole LM context (LMConfig.max_len) per running request


@dataclass(frozen=True)
class EngineConfig:
    """How many requests the engine holds, and how much KV cache they may use."""

    max_batch: int = 16
    """Most requests in the running batch: those decoded together at every step."""

    max_waiting: int = 64
    """Most requests queued for admission; `Engine.submit` raises QueueFull beyond it."""

    kv_budget_tokens: int = 4096
    """Bound on the sum, over running requests, of their KV-cache length in tokens (visual +
    bucket-padded prompt + fed answer tokens). A request is admitted only when its largest
    possible length fits beside the largest possible lengths of those already running."""

    prefill_bucket: int = 8
    """Prompts are left-padded to a multiple of this many tokens; admitted prompts of the same
    padded length are prefilled in one forward. 1 disables padding."""

    max_new_tokens: int = MAX_ANSWER_TOKENS
    """Answer tokens per request: the default, and the most a request may ask for."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"EngineConfig.{f.name}={value!r} must be a positive integer")

    @classmethod
    def for_slots(cls, max_batch: int, max_waiting: int) -> EngineConfig:
        """A tier's engine (fog, cloud): `max_batch` running requests, each with KV room for a
        whole LM context."""
        return cls(max_batch=max_batch, max_waiting=max_waiting,
                   kv_budget_tokens=max_batch * KV_TOKENS_PER_SLOT)
