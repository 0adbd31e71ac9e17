"""Load per tier: reported queue depth and active requests -> expected wait and LM batch size.

Each tier reports how many requests wait (`queue_depth`) and how many it serves now (`active`,
at most `slots` at once: 1 for a single-stream edge, the maximum batch for the cloud's
continuous-batching engine). A new request waits for the ones ahead of it to leave a slot:

    ahead  = queue_depth + max(0, active + 1 - slots)     # requests before ours gets a slot
    wait_s = ahead / slots * service_s                     # service_s: EWMA of one request's time

and, once admitted, decodes in a batch of `min(active + 1, slots)` requests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from splitvlm.plan.ewma import Ewma
from splitvlm.plan.plan import TIERS, Tier


@dataclass
class TierLoad:
    queue_depth: int = 0  # requests admitted to the tier but waiting for a slot
    active: int = 0  # requests being served now
    slots: int = 1  # requests the tier serves at once (its maximum LM batch)


class LoadTracker:
    """The latest load report of every tier and each tier's mean service time."""

    def __init__(
        self, slots: Mapping[Tier, int] | None = None,
        service_s: Mapping[Tier, float] | None = None, alpha: float = 0.2,
    ) -> None:
        self._load = {tier: TierLoad() for tier in TIERS}
        self._service = {tier: Ewma(0.0, alpha) for tier in TIERS}
        for tier, n in (slots or {}).items():
            self.report(tier, 0, 0, n)
        for tier, seconds in (service_s or {}).items():
            self.observe_service(tier, seconds)

    def report(self, tier: Tier, queue_depth: int, active: int, slots: int | None = None) -> None:
        """A tier's load report (its queue depth, active requests and, if changed, slots)."""
        if queue_depth < 0 or active < 0:
            raise ValueError(f"{tier}: queue_depth={queue_depth}, active={active}; expected >= 0")
        load = self._load[tier]
        if slots is not None:
            if slots < 1:
                raise ValueError(f"{tier}: slots={slots}; expected >= 1")
            load.slots = slots
        load.queue_depth, load.active = queue_depth, active

    def observe_service(self, tier: Tier, seconds: float) -> None:
        """How long one request occupied a slot of `tier` (start of service to its end)."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"{tier}: service seconds={seconds!r}; expected finite >= 0")
        self._service[tier].update(seconds)

    def load(self, tier: Tier) -> TierLoad:
        return self._load[tier]

    def wait_s(self, tier: Tier) -> float:
        """Expected seconds a request queues at `tier` before it is served."""
        load = self._load[tier]
        ahead = load.queue_depth + max(0, load.active + 1 - load.slots)
        return ahead / load.slots * self._service[tier].value

    def batch(self, tier: Tier) -> int:
        """The LM batch size a request joining `tier` now decodes in."""
        load = self._load[tier]
        return min(load.active + 1, load.slots)
