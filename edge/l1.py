"""The edge's L1: images it has seen (their model-resolution pixels, by feature key) and which
of them the fog holds visual tokens for.

The pixels let a later turn that sends only the key still run any plan (and re-send when the
fog has evicted the tokens); the fog flag lets the planner price a cache reference.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

DEFAULT_ENTRIES = 1024  # 64x64x3 pixels: 12 KiB each, 12 MiB in all


class EdgeL1:
    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        if entries < 0:
            raise ValueError(f"entries={entries} must be >= 0")
        self.entries = entries
        self._pixels: OrderedDict[str, tuple[np.ndarray, bytes]] = OrderedDict()
        self._at_fog: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, key: str, pixels: np.ndarray, png: bytes) -> None:
        """pixels (S, S, 3) uint8 and the same as PNG (what a plan sends as the image)."""
        with self._lock:
            self._pixels[key] = (pixels, png)
            self._pixels.move_to_end(key)
            while len(self._pixels) > self.entries:
                old, _ = self._pixels.popitem(last=False)
                self._at_fog.discard(old)

    def pixels(self, key: str) -> tuple[np.ndarray, bytes] | None:
        with self._lock:
            held = self._pixels.get(key)
            if held is not None:
                self._pixels.move_to_end(key)
            return held

    def mark_at_fog(self, key: str, held: bool = True) -> None:
        with self._lock:
            if held and key in self._pixels:
                self._at_fog.add(key)
            else:
                self._at_fog.discard(key)

    def at_fog(self, key: str) -> bool:
        with self._lock:
            return key in self._at_fog
