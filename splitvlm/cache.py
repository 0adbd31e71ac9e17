"""The content-addressed feature cache: visual tokens kept by `feature_key`, within a byte budget.

    cache = FeatureCache(byte_budget=64 << 20, ttl_s=600.0)
    key = feature_key(pixels, visual_version)      # image content + visual model version
    if (tokens := cache.get(key)) is None:          # a miss: run vision, then
        cache.put(key, encode(visual, Encoding.INT8))

Values are `WireTensor`s, stored as they travel, so a hit is forwarded without re-encoding.
- Budget: the sum of stored `nbytes` never exceeds `byte_budget`; `put` evicts least recently
  used entries to make room, and refuses (returns False) a value larger than the whole budget.
- TTL: with `ttl_s`, an entry expires that long after its `put` (reads do not extend it); an
  expired entry is a miss and is dropped.
- Integrity: `get` recomputes the content hash; an entry whose bytes no longer match its digest
  is dropped, counted in `corrupted` (and as a miss), and never returned.
- Threads: every method takes one lock; `clock` is injectable for tests.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from splitvlm.wire import WireTensor, content_hash


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of the cache's counters and occupancy."""

    hits: int
    misses: int  # includes expired and corrupted lookups
    evictions: int  # entries pushed out to respect the byte budget
    corrupted: int  # entries dropped because their digest no longer matched
    entries: int
    bytes: int  # sum of stored nbytes; always <= byte_budget
    byte_budget: int

    @property
    def hit_ratio(self) -> float:
        """hits / lookups; 0.0 before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


@dataclass
class _Entry:
    value: WireTensor
    stored_at_s: float  # clock() at put


class FeatureCache:
    """An LRU, byte-budgeted, optionally expiring map from feature keys to WireTensors."""

    def __init__(self, byte_budget: int, ttl_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(byte_budget, bool) or not isinstance(byte_budget, int) or byte_budget <= 0:
            raise ValueError(f"byte_budget={byte_budget!r}; expected a positive int of bytes")
        if ttl_s is not None and not (math.isfinite(ttl_s) and ttl_s > 0):
            raise ValueError(f"ttl_s={ttl_s!r}; expected None or a finite number of seconds > 0")
        self.byte_budget = byte_budget
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._bytes = 0
        self._hits = self._misses = self._evictions = self._corrupted = 0

    def put(self, key: str, value: WireTensor) -> bool:
        """Store `value` under `key` (replacing any old one); False if it exceeds the budget."""
        size = value.nbytes
        if size > self.byte_budget:
            return False
        with self._lock:
            self._remove(key)
            if self._bytes + size > self.byte_budget:
                self._drop_expired(self._clock())
            while self._bytes + size > self.byte_budget:
                oldest = next(iter(self._entries))
                self._remove(oldest)
                self._evictions += 1
            self._entries[key] = _Entry(value, self._clock())
            self._bytes += size
            return True

    def get(self, key: str) -> WireTensor | None:
        """The value under `key` (now most recently used), or None: absent, expired, corrupted."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self._expired(entry, self._clock()):
                self._remove(key)
                self._misses += 1
                return None
            value = entry.value
            if content_hash(value.data, value.scales) != value.digest:
                self._remove(key)
                self._corrupted += 1
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            return value

    def contains(self, key: str) -> bool:
        """Whether a live entry exists; touches neither LRU order nor stats, verifies nothing."""
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and not self._expired(entry, self._clock())

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, self._evictions, self._corrupted,
                              len(self._entries), self._bytes, self.byte_budget)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _expired(self, entry: _Entry, now_s: float) -> bool:
        return self.ttl_s is not None and now_s - entry.stored_at_s >= self.ttl_s

    def _drop_expired(self, now_s: float) -> None:
        for key in [k for k, e in self._entries.items() if self._expired(e, now_s)]:
            self._remove(key)

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.value.nbytes
