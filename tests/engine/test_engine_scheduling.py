"""Admission, the queue bound, cancel, deadlines and the KV budget; request validation."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest

from splitvlm.engine import BadRequest, Engine, EngineConfig, FinishReason, QueueFull
from splitvlm.errors import Overloaded

Sample = tuple[np.ndarray, list[int]]  # visual (N', Dl) float32, prompt ids
Step = Callable[[Engine], None]
MakeSample = Callable[[int, int], Sample]


def test_queue_full(make_engine: Callable[..., Engine], sample: MakeSample, step: Step) -> None:
    engine = make_engine(max_batch=1, max_waiting=2)
    engine.submit(*sample(0, 4))
    engine.submit(*sample(1, 4))
    with pytest.raises(QueueFull, match="max_waiting=2") as info:
        engine.submit(*sample(2, 4))
    assert isinstance(info.value, Overloaded) and info.value.retryable
    step(engine)  # one admitted: room in the queue again
    engine.submit(*sample(2, 4))
    assert engine.stats().waiting == 2


def test_cancel_frees_the_slot(
    make_engine: Callable[..., Engine], sample: MakeSample, step: Step
) -> None:
    engine = make_engine(max_batch=1)
    first, second = engine.submit(*sample(0, 4)), engine.submit(*sample(1, 4))
    step(engine)
    assert len(first.output()) == 1 and second.output() == []  # its prefill's token
    first.cancel()
    step(engine)
    assert first.finish_reason is FinishReason.CANCELLED and len(first.output()) == 1
    assert len(second.output()) == 1 and engine.stats().running == 1
    third = engine.submit(*sample(2, 4))
    third.cancel()  # while waiting
    step(engine)
    assert third.finish_reason is FinishReason.CANCELLED and third.output() == []
    first.cancel()  # after the end: nothing happens
    assert first.finish_reason is FinishReason.CANCELLED


def test_deadline_ends_the_request(
    make_engine: Callable[..., Engine], sample: MakeSample, step: Step
) -> None:
    engine = make_engine(max_batch=1)
    running = engine.submit(*sample(0, 4), deadline=time.monotonic() + 0.05)
    waiting = engine.submit(*sample(1, 4), deadline=time.monotonic() + 0.05)
    late = engine.submit(*sample(2, 4), deadline=time.monotonic() - 1.0)
    step(engine)
    time.sleep(0.06)
    step(engine)
    assert running.finish_reason is FinishReason.DEADLINE and len(running.output()) == 1
    assert waiting.finish_reason is FinishReason.DEADLINE and waiting.output() == []
    assert late.finish_reason is FinishReason.DEADLINE and late.output() == []
    assert engine.stats().running == 0 and engine.stats().kv_reserved == 0


def test_kv_budget_holds_requests_back(
    make_engine: Callable[..., Engine], sample: MakeSample, step: Step, run_until_idle: Step
) -> None:
    # each request reserves 9 visual + 8 padded prompt + 10 - 1 answer = 26 tokens
    engine = make_engine(max_batch=8, kv_budget_tokens=60, prefill_bucket=8, max_new_tokens=10)
    handles = [engine.submit(*sample(i, 5), max_new_tokens=10) for i in range(5)]
    step(engine)
    stats = engine.stats()
    # prefilled, nothing decoded yet: 2 x (9 + 8) KV tokens
    assert (stats.running, stats.waiting, stats.kv_reserved, stats.kv_tokens) == (2, 3, 52, 34)
    run_until_idle(engine)
    assert all(h.finish_reason is not None for h in handles)
    assert max(engine.stats().batch_history) == 2


GOOD = np.zeros((9, 128), np.float32)


@pytest.mark.parametrize(
    ("visual", "prompt", "max_new", "match"),
    [
        (np.zeros((9, 64), np.float32), [5], None, "shape"),
        (np.zeros((9, 128), np.float64), [5], None, "dtype"),
        (GOOD, [], None, "empty"),
        (GOOD, [5, 999], None, "vocabulary"),
        (GOOD, [5] * 56, None, "too long"),
        (GOOD, [5], 0, "max_new_tokens=0"),
        (GOOD, [5], 25, "max_new_tokens=25"),
    ],
)
def test_bad_requests(
    make_engine: Callable[..., Engine], visual: np.ndarray, prompt: list[int],
    max_new: int | None, match: str,
) -> None:
    with pytest.raises(BadRequest, match=match):
        make_engine().submit(visual, prompt, max_new)


def test_request_over_the_whole_budget(
    make_engine: Callable[..., Engine], sample: MakeSample
) -> None:
    with pytest.raises(ValueError, match="kv_budget_tokens=20"):
        make_engine(kv_budget_tokens=20).submit(*sample(0, 4))


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match=r"EngineConfig.max_batch=0"):
        EngineConfig(max_batch=0)
    with pytest.raises(ValueError, match=r"EngineConfig.prefill_bucket=True"):
        EngineConfig(prefill_bucket=True)
