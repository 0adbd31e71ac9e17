"""A small random LM of the family (edge sizes), scaled so greedy answers vary token to token."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from splitvlm.engine import Engine, EngineConfig
from splitvlm.model.lm import LM
from splitvlm.model.vlm import VisualConfig
from splitvlm.model.zoo import lm_config

PAD_ID, EOS_ID = 0, 2
Sample = tuple[np.ndarray, list[int]]  # visual (N', Dl) float32, prompt ids (local use)


@pytest.fixture(scope="session")
def random_lm() -> LM:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = LM(lm_config("edge", VisualConfig()))
    with torch.no_grad():  # the default init answers one token forever: too weak a test
        for module in model.modules():
            if isinstance(module, nn.Linear):
                module.weight.normal_(0, 0.2)
        model.pos_emb.weight.normal_(0, 1.0)
        model.set_cell_head(torch.randn(13, model.cfg.visual_dim), torch.zeros(13))
    return model.eval()


@pytest.fixture
def sample(random_lm: LM) -> Callable[[int, int], Sample]:
    """sample(seed, prompt_len) -> random visual tokens and prompt."""

    def make(seed: int, prompt_len: int) -> Sample:
        rng, cfg = np.random.default_rng(seed), random_lm.cfg
        visual = rng.standard_normal((cfg.n_visual, cfg.visual_dim)).astype(np.float32)
        prompt = rng.integers(3, cfg.vocab_size, size=prompt_len).tolist()
        return visual, prompt

    return make


@pytest.fixture
def alone(random_lm: LM) -> Callable[[Sample, int, int], list[int]]:
    """alone(sample, max_new, eos_id) -> LM.generate's greedy answer for that request alone."""

    def run(s: Sample, max_new: int, eos_id: int = EOS_ID) -> list[int]:
        visual = torch.from_numpy(s[0])[None]  # (1, N', Dl)
        return random_lm.generate(visual, [s[1]], PAD_ID, eos_id, max_new)[0]

    return run


@pytest.fixture
def make_engine(random_lm: LM) -> Callable[..., Engine]:
    """make_engine(eos_id=EOS_ID, **EngineConfig fields) -> an engine over the session LM."""

    def make(eos_id: int = EOS_ID, **cfg: int) -> Engine:
        return Engine(random_lm, EngineConfig(**cfg), PAD_ID, eos_id)

    return make


@pytest.fixture
def step() -> Callable[[Engine], None]:
    """step(engine): one engine step, then the engine's bounds checked."""
    return _step


@pytest.fixture
def run_until_idle() -> Callable[[Engine], None]:
    """run_until_idle(engine): step, checking bounds every time, until nothing waits or runs."""

    def run(engine: Engine) -> None:
        for _ in range(500):
            stats = engine.stats()
            if stats.running == 0 and stats.waiting == 0:
                return
            _step(engine)
        raise AssertionError("engine still busy after 500 steps")

    return run


def _step(engine: Engine) -> None:
    engine.step()
    stats = engine.stats()
    assert stats.kv_tokens <= stats.kv_reserved <= engine.cfg.kv_budget_tokens
    assert stats.running <= engine.cfg.max_batch
    assert stats.waiting <= engine.cfg.max_waiting
