"""The engine's greedy tokens equal LM.generate on each request alone."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from splitvlm.engine import Engine, FinishReason
from splitvlm.model.lm import KV, LM, Segment

Sample = tuple[np.ndarray, list[int]]  # visual (N', Dl) float32, prompt ids
Step = Callable[[Engine], None]

# (prompt length, max_new_tokens) of 12 requests, submitted in three waves
REQUESTS = [(3, 12), (11, 5), (1, 20), (7, 9), (16, 3), (5, 14),
            (9, 1), (2, 17), (13, 8), (20, 6), (4, 11), (8, 15)]
WAVES = [(0, 5), (5, 9), (9, 12)]  # request index ranges, three steps apart


@pytest.mark.parametrize("bucket", [1, 8])
def test_batched_tokens_equal_alone(
    make_engine: Callable[..., Engine], sample: Callable[[int, int], Sample],
    alone: Callable[[Sample, int], list[int]], step: Step, run_until_idle: Step, bucket: int,
) -> None:
    engine = make_engine(max_batch=5, max_waiting=12, kv_budget_tokens=140,
                         prefill_bucket=bucket, max_new_tokens=20)
    samples = [sample(seed, n) for seed, (n, _) in enumerate(REQUESTS)]
    handles = []
    for start, stop in WAVES:
        for i in range(start, stop):
            handles.append(engine.submit(*samples[i], max_new_tokens=REQUESTS[i][1]))
        for _ in range(3):
            step(engine)
    run_until_idle(engine)
    for i, handle in enumerate(handles):
        expected = alone(samples[i], REQUESTS[i][1])
        assert handle.output() == expected, f"request {i}"
        done = FinishReason.EOS if expected[-1] == engine.eos_id else FinishReason.LENGTH
        assert handle.finish_reason is done
    stats = engine.stats()
    assert stats.tokens_generated == sum(len(h.output()) for h in handles)
    assert stats.batch_mean > 2 and max(stats.batch_history) <= 5


def test_eos_stops_the_request(
    make_engine: Callable[..., Engine], sample: Callable[[int, int], Sample],
    alone: Callable[..., list[int]], run_until_idle: Step,
) -> None:
    s = sample(100, 6)
    free = alone(s, 12, -1)  # never stops early: the full answer
    k = next((i for i in range(1, len(free)) if free[i] not in free[:i]), 0)
    eos = free[k]  # the answer's first new token after its first: with this EOS it stops there
    engine = make_engine(eos_id=eos)
    other = engine.submit(*sample(101, 4), max_new_tokens=12)
    handle = engine.submit(*s, max_new_tokens=12)
    run_until_idle(engine)
    assert handle.output() == free[: k + 1] == alone(s, 12, eos)
    assert handle.finish_reason is FinishReason.EOS
    assert other.finish_reason in (FinishReason.EOS, FinishReason.LENGTH)


def test_length_cut_to_the_lm_positions(
    random_lm: LM, make_engine: Callable[..., Engine], sample: Callable[[int, int], Sample],
    alone: Callable[..., list[int]], run_until_idle: Step,
) -> None:
    prompt_len = random_lm.cfg.max_len - random_lm.cfg.n_visual - 3  # room for 4 answer tokens
    engine = make_engine(eos_id=-1, max_new_tokens=24, kv_budget_tokens=1000)
    s = sample(7, prompt_len)
    handle = engine.submit(*s)
    run_until_idle(engine)
    out = handle.output()  # LM.generate feeds its last token too, so it holds one less
    assert len(out) == 4 and out[:3] == alone(s, 3, -1)
    assert handle.finish_reason is FinishReason.LENGTH


def test_admission_shares_the_step_forward(
    random_lm: LM, make_engine: Callable[..., Engine], sample: Callable[[int, int], Sample],
    alone: Callable[..., list[int]], step: Step, run_until_idle: Step,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Prompts admitted while others decode go through the same forward, one segment per
    padded width, and still get their answers alone."""
    calls: list[list[tuple[int, ...]]] = []
    original = random_lm.forward_segments

    def counted(segments: list[Segment]) -> list[tuple[torch.Tensor, KV]]:
        calls.append([tuple(s.h.shape[:2]) for s in segments])
        return original(segments)

    monkeypatch.setattr(random_lm, "forward_segments", counted)
    engine = make_engine(max_batch=4, prefill_bucket=8, eos_id=-1)
    samples = [sample(30, 4), sample(31, 4), sample(32, 12)]
    first = engine.submit(*samples[0], max_new_tokens=5)
    step(engine)  # the prompt alone: 9 visual + 8 padded prompt positions
    later = [engine.submit(*s, max_new_tokens=5) for s in samples[1:]]
    step(engine)  # widths 8 and 16 beside the first request's next token
    assert calls == [[(1, 17)], [(1, 17), (1, 25), (1, 1)]]
    run_until_idle(engine)
    for handle, s in zip([first, *later], samples, strict=True):
        assert handle.output() == alone(s, 5, -1)
