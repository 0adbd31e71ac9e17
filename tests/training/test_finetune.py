"""The fine-tune phase: a question mix, and an LM trained on from its checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.data.scenes import sample_scene
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.model import zoo
from splitvlm.training import lm as lm_training
from splitvlm.training.lm import Mix, question_batch
from splitvlm.training.loop import TrainConfig


def test_a_mix_names_short_answer_types_with_weights_that_can_be_drawn() -> None:
    with pytest.raises(ValueError, match="caption"):
        Mix({"caption": 1.0}, 0.25)  # captions come by caption_share
    with pytest.raises(ValueError, match="colour"):
        Mix({"colour": 1.0}, 0.25)
    with pytest.raises(ValueError):
        Mix({"relate": -1.0}, 0.25)
    with pytest.raises(ValueError):
        Mix({"relate": 1.0}, 1.5)


def test_question_batches_follow_the_weights() -> None:
    rng = np.random.default_rng(0)
    scenes = [sample_scene(rng) for _ in range(32)]
    tok = Tokenizer()
    weights = {"relate": 1.0, "count": 0.0}
    _, ids, _ = question_batch(scenes, 16, False, rng, tok, weights)
    questions = [tok.decode([int(i) for i in row]) for row in ids]
    assert all(q.startswith("what is") for q in questions), questions


def test_finetune_trains_on_from_the_checkpoint_and_records_the_leg(
    scratch_checkpoints: Path, tmp_path: Path
) -> None:
    ckpt = scratch_checkpoints
    before = json.loads((ckpt / "lm-edge.json").read_text())
    start = zoo.load_lm("edge", ckpt).state_dict()
    cfg = TrainConfig(steps=2, lr=1e-3, warmup=1, batch_size=8, eval_every=2)
    mix = Mix({"relate": 1.0}, 0.0)
    doc = lm_training.finetune_lm("edge", cfg, mix, ckpt, tmp_path / "runs")
    assert doc["train_steps"] == before["train_steps"] + 2
    assert doc["finetune"][-1] == {"steps": 2, "lr": 1e-3, "weights": {"relate": 1.0},
                                   "caption_share": 0.0}
    after = zoo.load_lm("edge", ckpt).state_dict()
    assert any(not torch.equal(start[k], after[k]) for k in start)  # it trained
    assert doc["hash"] != before["hash"]
