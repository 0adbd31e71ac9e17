"""Growth: a wider, deeper LM that computes what the smaller one computes, then trains apart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.data.scenes import sample_scene
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.model import zoo
from splitvlm.model.lm import LM, LMConfig
from splitvlm.training import lm as lm_training
from splitvlm.training.grow import grow
from splitvlm.training.loop import TrainConfig
from splitvlm.training.mining import HardSet, Mining, mine, weakness_weights

SMALL = LMConfig(vocab_size=54, dim=32, depth=2, heads=2)


def _trained_like(cfg: LMConfig, seed: int) -> LM:
    """An LM whose every weight is far from its initial value, as a trained one's are."""
    torch.manual_seed(seed)
    lm = LM(cfg)
    with torch.no_grad():
        for p in lm.parameters():
            p.add_(torch.randn_like(p) * 0.3)
        lm.cell_weight.normal_()
        lm.cell_bias.normal_()
    return lm.eval()


def _logits(lm: LM) -> torch.Tensor:
    gen = torch.Generator().manual_seed(7)
    visual = torch.randn(3, lm.cfg.n_visual, lm.cfg.visual_dim, generator=gen) * 30
    ids = torch.randint(0, lm.cfg.vocab_size, (3, 11), generator=gen)
    with torch.no_grad():
        return lm.sequence_logits(visual, ids)


@pytest.mark.parametrize("dim,depth,heads", [(64, 2, 4), (32, 4, 2), (128, 5, 8)],
                         ids=["width", "depth", "both"])
@pytest.mark.parametrize("noise", [0.0, 0.01])
def test_growth_preserves_the_function(dim: int, depth: int, heads: int, noise: float) -> None:
    small = _trained_like(SMALL, seed=1)
    big = grow(small, dataclasses.replace(SMALL, dim=dim, depth=depth, heads=heads), noise)
    assert big.cfg.dim == dim and len(big.blocks) == depth
    assert torch.allclose(_logits(big), _logits(small), atol=1e-4, rtol=0)


def test_noise_breaks_the_symmetry_between_copies() -> None:
    small = _trained_like(SMALL, seed=2)
    big = grow(small, dataclasses.replace(SMALL, dim=64, heads=4), noise=0.01)
    w = big.blocks[0].mlp[2].weight  # (d', hidden'): the copies' columns differ
    half = w.shape[1] // 2
    assert not torch.allclose(w[:, :half], w[:, half:])
    exact = grow(small, dataclasses.replace(SMALL, dim=64, heads=4), noise=0.0)
    w = exact.blocks[0].mlp[2].weight
    assert torch.equal(w[:, :half], w[:, half:])


def test_growth_refuses_what_it_cannot_preserve() -> None:
    small = _trained_like(SMALL, seed=3)
    with pytest.raises(ValueError, match="multiple"):
        grow(small, dataclasses.replace(SMALL, dim=48, heads=3))
    with pytest.raises(ValueError, match="head width"):
        grow(small, dataclasses.replace(SMALL, dim=64, heads=2))
    with pytest.raises(ValueError, match="depth"):
        grow(small, dataclasses.replace(SMALL, depth=1))
    with pytest.raises(ValueError, match="max_len"):
        grow(small, dataclasses.replace(SMALL, max_len=32))


def test_the_shipped_family_grows_from_the_edge_lm(checkpoints: Path) -> None:
    visual = zoo.load_visual(checkpoints)
    edge = zoo.load_lm("edge", checkpoints)
    fog = grow(edge, zoo.lm_config("fog", visual.cfg), noise=0.01)
    cloud = grow(fog, zoo.lm_config("cloud", visual.cfg), noise=0.01, seed=1)
    assert torch.allclose(_logits(cloud), _logits(edge), atol=1e-4, rtol=0)
    ratio = zoo.n_params(cloud) / zoo.n_params(edge)
    assert ratio >= 25, ratio  # the family keeps at least 1 : 8 : 25


def test_mining_finds_what_an_lm_misses_and_weighs_its_weak_types() -> None:
    rng = np.random.default_rng(0)
    scenes = [sample_scene(rng) for _ in range(16)]
    lm = LM(SMALL)  # untrained: it misses nearly everything
    tokens = torch.randn(16, SMALL.n_visual, SMALL.visual_dim)
    mined = mine(lm, scenes, tokens, per_type=3, rng=rng)
    assert set(mined.error_by_type) == set(lm_training.QTYPES)
    assert len(mined.missed) >= 20
    weights = weakness_weights({"relate": 0.2, "color": 0.0, "caption": 0.5})
    assert weights == {"relate": 1.0 + 0.2 * 35.0, "color": 1.0}
    hard = HardSet()
    hard.replace(mined.missed)
    drawn = hard.draw(5, rng, caption=False)
    assert len(drawn) == 5 and all(qa.qtype != "caption" for _, qa in drawn)
    with pytest.raises(ValueError):
        Mining(replay_share=2.0)


def test_replayed_questions_open_the_batch() -> None:
    rng = np.random.default_rng(1)
    scenes = [sample_scene(rng) for _ in range(8)]
    tok = Tokenizer()
    mined = mine(LM(SMALL), scenes, torch.randn(8, 9, 128), per_type=2, rng=rng)
    replay = [item for item in mined.missed if item[1].qtype == "relate"][:2]
    index, ids, _ = lm_training.question_batch(scenes, 6, False, rng, tok, {"count": 1.0},
                                               replay)
    assert index[:2].tolist() == [i for i, _ in replay]
    first = tok.decode([int(t) for t in ids[0]])
    assert first.startswith(replay[0][1].question)


def test_grow_lm_trains_the_grown_lm_and_records_where_it_came_from(
    scratch_checkpoints: Path, tmp_path: Path
) -> None:
    ckpt = scratch_checkpoints
    cfg = TrainConfig(steps=2, lr=1e-3, warmup=1, batch_size=8, eval_every=2)
    doc = lm_training.grow_lm("fog", "edge", cfg, lm_training.Mix({"relate": 1.0}, 0.0),
                              Mining(every=1, per_type=2), 0.01, ckpt, tmp_path / "runs")
    source = zoo.read_meta(ckpt / "lm-edge")
    assert doc["grown_from"]["hash"] == source["hash"]  # type: ignore[index]
    assert doc["train_steps"] == 2
    fog = zoo.load_lm("fog", ckpt)
    assert fog.cfg.dim == zoo.LM_SIZES["fog"]["dim"]
    grown = grow(zoo.load_lm("edge", ckpt), fog.cfg, 0.01)
    assert not torch.allclose(_logits(fog), _logits(grown))  # it trained
