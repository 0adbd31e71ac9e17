"""The engine on its own thread: blocking and async consumers, stop, the executor adapter."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from splitvlm.engine import (
    Engine,
    EngineClosed,
    EngineConfig,
    EngineGenerator,
    FinishReason,
    engine_for_tier,
)
from splitvlm.errors import NotAvailable
from splitvlm.model.lm import LM
from splitvlm.model.zoo import CheckpointError

Sample = tuple[np.ndarray, list[int]]  # visual (N', Dl) float32, prompt ids
MakeSample = Callable[[int, int], Sample]


@pytest.fixture
def running(make_engine: Callable[..., Engine]) -> Iterator[Engine]:
    """A started engine; the test fails if its thread outlives stop()."""
    before = set(threading.enumerate())
    engine = make_engine(max_batch=4, max_waiting=16)
    engine.start()
    yield engine
    engine.stop(timeout=10)
    assert set(threading.enumerate()) == before


def test_blocking_consumers(
    running: Engine, sample: MakeSample, alone: Callable[[Sample, int], list[int]]
) -> None:
    samples = [sample(i, 3 + i) for i in range(6)]
    handles = [running.submit(*s, max_new_tokens=8) for s in samples]
    results: dict[int, list[int]] = {}

    def consume(i: int) -> None:
        results[i] = list(handles[i].tokens())

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for i, s in enumerate(samples):
        assert results[i] == alone(s, 8) == list(handles[i].tokens())  # a late reader replays
    assert running.stats().running == 0


async def test_async_consumers(
    running: Engine, sample: MakeSample, alone: Callable[[Sample, int], list[int]]
) -> None:
    samples = [sample(i, 2 + i) for i in range(4)]

    async def answer(s: Sample) -> list[int]:
        return [token async for token in running.submit(*s, max_new_tokens=6).atokens()]

    answers = await asyncio.wait_for(asyncio.gather(*(answer(s) for s in samples)), 30)
    assert answers == [alone(s, 6) for s in samples]


async def test_generator_cancels_when_the_consumer_leaves(
    running: Engine, sample: MakeSample, alone: Callable[[Sample, int], list[int]]
) -> None:
    generator = EngineGenerator(running)
    s = sample(3, 5)
    visual = s[0][None]  # (1, N', Dl)
    assert [t async for t in generator.stream(visual, s[1], 7, None)] == alone(s, 7)
    stream = generator.stream(visual, s[1], 20, None)
    assert isinstance(stream, AsyncGenerator)
    assert await anext(stream) == alone(s, 1)[0]
    await stream.aclose()  # the consumer leaves: its request is cancelled
    for _ in range(100):
        if running.stats().running == 0:
            break
        await asyncio.sleep(0.01)
    assert running.stats().running == 0


def test_stop_aborts_and_closes(make_engine: Callable[..., Engine], sample: MakeSample) -> None:
    engine = make_engine(max_batch=1)
    handle = engine.submit(*sample(0, 4))  # never stepped
    engine.stop()
    assert handle.wait(timeout=1) is FinishReason.ABORTED and list(handle.tokens()) == []
    with pytest.raises(EngineClosed) as info:
        engine.submit(*sample(1, 4))
    assert isinstance(info.value, NotAvailable)
    with pytest.raises(EngineClosed):
        engine.start()
    engine.stop()  # idempotent


def test_engine_idles_without_spinning(running: Engine, sample: MakeSample) -> None:
    running.submit(*sample(0, 3), max_new_tokens=2).wait(timeout=30)
    threading.Event().wait(0.05)  # the step that ended it returns
    steps = running.stats().steps
    threading.Event().wait(0.1)
    assert running.stats().steps == steps


def test_build_for_a_tier(random_lm: LM, tmp_path: Path) -> None:
    engine = engine_for_tier("cloud", EngineConfig(max_batch=3), lm=random_lm)
    assert engine.cfg.max_batch == 3 and engine.lm is random_lm
    with pytest.raises(CheckpointError):
        engine_for_tier("cloud", EngineConfig(), directory=tmp_path)
    with pytest.raises(CheckpointError):
        engine_for_tier("fog", EngineConfig(), directory=tmp_path)
