"""FeatureCache: byte budget, LRU order, TTL, integrity, threads and stats."""

from __future__ import annotations

import dataclasses
import random
import threading

import numpy as np
import pytest

from splitvlm.cache import CacheStats, FeatureCache
from splitvlm.wire import WireTensor, encode
from splitvlm.wire.codecs import Encoding


def _tensor(n_bytes: int, seed: int = 0) -> WireTensor:
    """A valid FP32 WireTensor of exactly `n_bytes` (a multiple of 4)."""
    x = np.random.default_rng(seed).standard_normal(n_bytes // 4).astype(np.float32)
    return encode(x, Encoding.FP32)


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def test_constructor_validates_arguments() -> None:
    for budget in (0, -5, 1.5, True):
        with pytest.raises(ValueError, match=f"byte_budget={budget!r}"):
            FeatureCache(budget)  # type: ignore[arg-type]
    for ttl in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="ttl_s="):
            FeatureCache(100, ttl_s=ttl)


def test_put_get_and_oversized_refused() -> None:
    cache = FeatureCache(100)
    t = _tensor(40)
    assert cache.put("a", t) and cache.get("a") is t
    assert not cache.put("big", _tensor(104))
    assert not cache.contains("big") and cache.get("a") is t
    assert cache.put("exact", _tensor(100))  # a value of exactly the budget fits, alone
    assert cache.stats().entries == 1 and cache.stats().bytes == 100


def test_lru_evicts_least_recently_used() -> None:
    cache = FeatureCache(120)
    for key in "abc":
        cache.put(key, _tensor(40))
    assert cache.get("a") is not None  # a is now the most recent; b the least
    assert cache.contains("b")  # contains does not refresh b
    cache.put("d", _tensor(40))
    assert [cache.contains(k) for k in "abcd"] == [True, False, True, True]
    cache.put("e", _tensor(80))  # needs two slots: c, then a
    assert [cache.contains(k) for k in "acde"] == [False, False, True, True]
    assert cache.stats().evictions == 3


def test_replacing_a_key_updates_bytes() -> None:
    cache = FeatureCache(100)
    cache.put("a", _tensor(40))
    cache.put("a", _tensor(80))
    s = cache.stats()
    assert (s.entries, s.bytes, s.evictions) == (1, 80, 0)


def test_budget_never_exceeded_over_random_puts() -> None:
    rng = random.Random(0)
    budget = 1000
    cache = FeatureCache(budget)
    tensors = {n: _tensor(n) for n in range(4, 1200, 4)}
    mirror: dict[str, int] = {}
    for step in range(2000):
        key = f"k{rng.randrange(60)}"
        if rng.random() < 0.3:
            cache.get(key)
            continue
        size = rng.choice(list(tensors))
        stored = cache.put(key, tensors[size])
        assert stored == (size <= budget), step
        s = cache.stats()
        assert s.bytes <= budget and s.entries == len(cache)
        if stored:
            mirror[key] = size
            assert cache.contains(key)
    live = {k: mirror[k] for k in mirror if cache.contains(k)}
    assert cache.stats().bytes == sum(live.values())


def test_ttl_expires_entries_with_a_fake_clock() -> None:
    clock = FakeClock()
    cache = FeatureCache(100, ttl_s=10.0, clock=clock)
    cache.put("a", _tensor(40))
    clock.now_s = 9.9
    assert cache.get("a") is not None  # a read does not extend the TTL
    clock.now_s = 10.0
    assert not cache.contains("a") and len(cache) == 1  # contains never removes
    assert cache.get("a") is None
    s = cache.stats()
    assert (s.hits, s.misses, s.entries, s.bytes) == (1, 1, 0, 0)


def test_expired_entries_make_room_before_live_ones_are_evicted() -> None:
    clock = FakeClock()
    cache = FeatureCache(100, ttl_s=10.0, clock=clock)
    cache.put("old", _tensor(40))
    clock.now_s = 5.0
    cache.put("live", _tensor(40))
    cache.get("old")  # old is most recently used, but expires first
    clock.now_s = 12.0
    cache.put("new", _tensor(40))
    assert [cache.contains(k) for k in ("old", "live", "new")] == [False, True, True]
    assert cache.stats().evictions == 0


def test_corrupted_entries_are_dropped_and_counted() -> None:
    cache = FeatureCache(1000)
    t = _tensor(40)
    flipped = bytes([t.data[0] ^ 1]) + t.data[1:]
    cache.put("bytes", dataclasses.replace(t, data=flipped))  # stored bytes changed
    cache.put("digest", dataclasses.replace(t, digest="0" * 32))  # wrong digest
    cache.put("good", t)
    assert cache.get("bytes") is None and cache.get("digest") is None
    assert cache.get("good") is t
    s = cache.stats()
    assert (s.corrupted, s.misses, s.hits, s.entries, s.bytes) == (2, 2, 1, 1, 40)
    assert not cache.contains("bytes")


def test_stats_and_hit_ratio() -> None:
    cache = FeatureCache(100)
    assert cache.stats() == CacheStats(0, 0, 0, 0, 0, 0, 100)
    assert cache.stats().hit_ratio == 0.0
    cache.put("a", _tensor(60))
    cache.get("a")
    cache.get("a")
    cache.get("zz")
    cache.contains("a")
    cache.put("b", _tensor(60))  # evicts a
    s = cache.stats()
    assert s == CacheStats(hits=2, misses=1, evictions=1, corrupted=0, entries=1, bytes=60,
                           byte_budget=100)
    assert s.hit_ratio == pytest.approx(2 / 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.hits = 5  # type: ignore[misc]


def test_concurrent_puts_and_gets_keep_the_invariants() -> None:
    budget = 4000
    cache = FeatureCache(budget)
    tensors = [_tensor(4 * (1 + i % 50), seed=i) for i in range(100)]
    errors: list[str] = []
    lookups = [0] * 8

    def worker(w: int) -> None:
        rng = random.Random(w)
        for _ in range(500):
            i = rng.randrange(len(tensors))
            if rng.random() < 0.5:
                cache.put(f"k{i}", tensors[i])
            else:
                lookups[w] += 1
                got = cache.get(f"k{i}")
                if got is not None and got is not tensors[i]:
                    errors.append(f"k{i} returned another tensor")
            s = cache.stats()
            if s.bytes > budget:
                errors.append(f"bytes {s.bytes} > budget {budget}")

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    s = cache.stats()
    assert s.hits + s.misses == sum(lookups)
    assert s.bytes == sum(tensors[int(k[1:])].nbytes for k in list(cache._entries))
    assert s.bytes <= budget and s.corrupted == 0
