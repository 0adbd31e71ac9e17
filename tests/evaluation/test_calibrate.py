"""`splitvlm eval --calibrate`: rows from every LM on the calibration set, read back by the
planner's Calibration; the edge LM's confidences are the ONNX edge LM's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.checkpoints import ONNX_SUBDIR
from splitvlm.data.sets import calibration_set, held_out_set
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.evaluation_cli import run_calibration
from splitvlm.model import zoo
from splitvlm.plan.calibration import Calibration
from splitvlm.plan.plan import Tier
from splitvlm.runtime.ort import OrtEdgeLM
from splitvlm.runtime.visual import visual_tokens


def test_calibration_rows_come_from_every_lm_and_load_back(checkpoints: Path,
                                                           tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    shutil.copytree(checkpoints, ckpt)
    summary = run_calibration(2, ckpt)
    cal = Calibration.from_dict(json.loads((ckpt / "calibration.json").read_text()))
    assert len(cal.rows) == 2 * 9 and set(summary) == {"fog", "cloud"}
    assert all(0.0 < r.confidence <= 1.0 and set(r.upstream) == {Tier.FOG, Tier.CLOUD}
               for r in cal.rows)
    assert summary["cloud"]["edge_accuracy"] == cal.accuracy(Tier.CLOUD, "unknown", 0.0)


def test_the_calibration_set_is_not_the_held_out_set() -> None:
    held = {(s.qa.question, s.scene) for s in held_out_set(per_type=20)}
    assert not held & {(s.qa.question, s.scene) for s in calibration_set(per_type=20)}


def test_torch_and_onnx_edge_lms_give_the_same_confidence(checkpoints: Path) -> None:
    tok = Tokenizer()
    samples = held_out_set(per_type=1)
    visual = visual_tokens("int8", checkpoints)(np.stack([s.image() for s in samples]))
    prompts = [tok.encode(s.qa.question) + [tok.ans_id] for s in samples]
    torch_rows = zoo.load_lm("edge", checkpoints).generate_scored(
        torch.from_numpy(visual).float(), prompts, tok.pad_id, tok.eos_id)
    ort_rows = OrtEdgeLM(checkpoints / ONNX_SUBDIR).generate_scored(
        visual.astype(np.float32), prompts, tok.pad_id, tok.eos_id)
    for (ids_t, conf_t), (ids_o, conf_o) in zip(torch_rows, ort_rows, strict=True):
        assert ids_t == ids_o
        assert conf_o == pytest.approx(conf_t, abs=1e-4)
