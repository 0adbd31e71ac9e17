"""Frames and the bounded ring that holds them while the pipeline is busy.

    ring = Ring(capacity=2)
    dropped = ring.put(frame)      # never blocks; when full the oldest frame is dropped
    frame = await ring.get()       # oldest first; None once closed and empty

A camera is never blocked and memory never grows: a source that produces faster than the
edge answers loses its oldest frames, so what is asked about is at most `capacity` frames old.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, TypeVar

import numpy as np

from edge.agent.nearby import perceptual_hash

T = TypeVar("T")


@dataclass
class Frame:
    source: str
    seq: int  # the source's sequence number, from 0
    pixels: np.ndarray  # (S, S, 3) uint8 at model resolution
    captured_unix_s: float = field(default_factory=time.time)

    @cached_property
    def phash(self) -> int:
        """Its perceptual hash (edge.agent.nearby), computed once: a scene check and the
        near-duplicate match both read it."""
        return perceptual_hash(self.pixels)


class Ring(Generic[T]):
    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity={capacity} must be positive")
        self.capacity = capacity
        self._frames: deque[T] = deque()
        self._ready = asyncio.Event()
        self._closed = False
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, frame: T) -> T | None:
        """Add `frame`; the oldest frame when it had to make room (counted in `dropped`)."""
        if self._closed:
            raise RuntimeError("the ring is closed")
        oldest = None
        if len(self._frames) >= self.capacity:
            oldest = self._frames.popleft()
            self.dropped += 1
        self._frames.append(frame)
        self._ready.set()
        return oldest

    async def get(self) -> T | None:
        """The oldest frame, waiting for one; None when the ring is closed and empty."""
        while not self._frames:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self._frames.popleft()

    def close(self) -> None:
        """No more frames: get() drains what is held, then returns None."""
        self._closed = True
        self._ready.set()
