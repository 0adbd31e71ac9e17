"""An exponentially weighted moving average that notices a step change.

    est = Ewma(100e6)            # bandwidth_bps, say
    est.update(98e6)             # near the estimate: ordinary EWMA step
    est.update(9e6)              # far off (outside [value/factor, value*factor]): held back
    est.update(11e6); est.update(10e6)   # k=3 in a row, same side: reset to their median

A single far-off sample (a GC pause, one slow transfer) moves nothing; `k` consecutive ones on
the same side mean the world changed, and the estimate jumps to the recent values instead of
creeping towards them at rate `alpha`. Used for link bandwidth and RTT and for compute profiles.
"""

from __future__ import annotations

import math
from statistics import median


class Ewma:
    """EWMA with a k-consecutive-outliers change detector (values > 0)."""

    def __init__(self, value: float, alpha: float = 0.2, factor: float = 2.0, k: int = 3) -> None:
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"value={value!r}; expected a finite number >= 0")
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha={alpha!r}; expected 0 < alpha <= 1")
        if not factor > 1:
            raise ValueError(f"factor={factor!r}; expected > 1")
        if k < 1:
            raise ValueError(f"k={k!r}; expected >= 1")
        self.value = float(value)
        self.alpha = alpha  # weight of a new in-range sample
        self.factor = factor  # a sample outside [value/factor, value*factor] is an outlier
        self.k = k  # this many outliers in a row, on one side, reset the estimate
        self._outliers: list[float] = []
        self._side = 0  # +1 above, -1 below: the side of the pending outliers

    def update(self, sample: float) -> bool:
        """Fold in one sample; True when it completed a detected change (and reset)."""
        if not (math.isfinite(sample) and sample >= 0):
            raise ValueError(f"sample={sample!r}; expected a finite number >= 0")
        if self.value <= 0:  # nothing to compare with yet: adopt the sample
            self.value = float(sample)
            return False
        side = self._side_of(sample)
        if side == 0:
            self.value += self.alpha * (sample - self.value)
            self._outliers.clear()
            return False
        if side != self._side:
            self._outliers.clear()
            self._side = side
        self._outliers.append(sample)
        if len(self._outliers) < self.k:
            return False
        self.value = median(self._outliers)
        self._outliers.clear()
        return True

    def _side_of(self, sample: float) -> int:
        if sample > self.value * self.factor:
            return 1
        if sample < self.value / self.factor:
            return -1
        return 0
