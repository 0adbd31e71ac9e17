"""A tier's status: its load, its cache, what it can do, and (in `Status`) what it measured and
what it sees downstream. The wire's `TierStatus` message maps onto it field for field.

    Executor.status()                  load, cache, limits: with every ExecuteResult
    TierService.Status                 the same + profile (this tier's and downstream's),
                                       the next tier's status and the link to it
"""

from __future__ import annotations

from dataclasses import dataclass

from splitvlm.cache import CacheStats
from splitvlm.plan.measured import ProfileReport
from splitvlm.plan.plan import Tier
from splitvlm.stages import MAX_ANSWER_TOKENS


@dataclass(frozen=True)
class EngineLoad:
    """An LM engine's load (continuous batching)."""

    queued: int = 0  # requests waiting to be admitted
    running: int = 0  # requests decoding now
    batch_mean: float = 0.0  # mean running batch over its recent steps


@dataclass(frozen=True)
class LinkEstimate:
    bandwidth_bps: float
    rtt_s: float


@dataclass(frozen=True)
class TierStatus:
    tier: Tier
    active: int = 0  # requests executing now
    engine: EngineLoad = EngineLoad()
    cache: CacheStats | None = None  # the feature cache, where the tier has one
    visual_version: str = ""
    vision_runs: int = 0  # vision stage executions so far (a cache hit needs none)
    max_answer_tokens: int = MAX_ANSWER_TOKENS
    profile: ProfileReport | None = None  # Status only: this tier's and downstream's
    downstream: TierStatus | None = None  # the next tier's, as this tier last saw it
    next_link: LinkEstimate | None = None  # this tier's estimate of the link to the next

    @property
    def busy(self) -> int:
        """Requests this tier's LM is working on: those it decodes, or else those executing."""
        return self.engine.running or self.active
