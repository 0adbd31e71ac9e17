"""What `preprocess` costs for an image of a given size: decoding and downscaling.

    cost = ImageCost([(0.26, 0.004), (4.19, 0.060)])   # (megapixels, seconds) measured
    cost.seconds(12.0)                                   # a 4000x3000 photo: ~0.17 s
    cost.observe(0.26, 0.005)                            # every real execution, online

Decoding a JPEG and box-filtering it to model resolution costs time in proportion to the
source's pixels, so one number per tier cannot price both a 512x512 camera frame and a
12-megapixel photo. The price is a line, seconds = base_s + s_per_mpix x megapixels, fitted to
a window of recent executions robustly (Theil-Sen: the median of pairwise slopes, then the
median intercept), so one slow execution moves neither coefficient; a window of one image size
alone cannot show a slope, so the last fitted slope is kept and only the base moves.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from statistics import median

WINDOW = 16  # recent executions the line is fitted to
MIN_SPREAD = 1.5  # the window shows a slope when its largest image is this many times the smallest
DEFAULT_S_PER_MPIX = 0.015  # before two sizes were measured: PIL JPEG decode + box filter, 1 core


class ImageCost:
    """seconds = base_s + s_per_mpix * megapixels, fitted to recent (megapixels, seconds)."""

    def __init__(self, points: Iterable[tuple[float, float]],
                 s_per_mpix: float = DEFAULT_S_PER_MPIX) -> None:
        self.s_per_mpix = s_per_mpix
        self.base_s = 0.0
        self._points: deque[tuple[float, float]] = deque(maxlen=WINDOW)
        for mpix, seconds in points:
            self._check(mpix, seconds)
            self._points.append((mpix, seconds))
        if not self._points:
            raise ValueError("ImageCost needs at least one measured (megapixels, seconds)")
        self._fit()

    def seconds(self, mpix: float) -> float:
        return self.base_s + self.s_per_mpix * max(mpix, 0.0)

    def observe(self, mpix: float, seconds: float) -> None:
        self._check(mpix, seconds)
        self._points.append((mpix, seconds))
        self._fit()

    def points(self) -> list[tuple[float, float]]:
        return list(self._points)

    @staticmethod
    def _check(mpix: float, seconds: float) -> None:
        if not (math.isfinite(mpix) and mpix > 0 and math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"image cost sample ({mpix!r} Mpix, {seconds!r} s); expected "
                             "megapixels > 0 and seconds >= 0")

    def _fit(self) -> None:
        xs = [x for x, _ in self._points]
        if max(xs) >= MIN_SPREAD * min(xs):
            slopes = [(y2 - y1) / (x2 - x1) for i, (x1, y1) in enumerate(self._points)
                      for x2, y2 in list(self._points)[i + 1:] if x2 > MIN_SPREAD * x1
                      or x1 > MIN_SPREAD * x2]
            self.s_per_mpix = max(median(slopes), 0.0)
        self.base_s = max(median(y - self.s_per_mpix * x for x, y in self._points), 0.0)
