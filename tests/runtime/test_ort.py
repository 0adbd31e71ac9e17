from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.data import Tokenizer
from splitvlm.model.lm import LM
from splitvlm.model.vlm import VisualSide
from splitvlm.runtime.ort import MANIFEST_FILE, ModelFilesError, OrtEdgeLM, OrtVisual


def test_edge_lm_tokens_equal_torch_generate(
    model_dir: Path, visual_side: VisualSide, edge_lm: LM, samples: list, prompts: list
) -> None:
    tok = Tokenizer()
    pixels = np.stack([s.image() for s in samples])  # (30, 64, 64, 3)
    visual = OrtVisual(model_dir).run(pixels, 8)  # (30, 9, 128)
    never = -1  # no stop token: compare all 12 tokens of every row
    expected = edge_lm.generate(torch.from_numpy(visual), prompts, tok.pad_id, never,
                                max_new_tokens=12)  # one left-padded batch
    got = OrtEdgeLM(model_dir).generate(visual, prompts, tok.pad_id, never, max_new_tokens=12)
    assert len(got) == 30 and all(len(row) == 12 for row in expected)
    assert got == expected


def test_edge_lm_stops_at_eos(model_dir: Path, edge_lm: LM, prompts: list) -> None:
    visual = np.zeros((1, 9, 128), np.float32)
    lm = OrtEdgeLM(model_dir)
    first = lm.generate(visual, prompts[:1], 0, eos_id=-1, max_new_tokens=3)[0]
    stop = first.index(first[-1])  # where the last token first occurs
    assert lm.generate(visual, prompts[:1], 0, eos_id=first[-1], max_new_tokens=3) == [
        first[:stop + 1]]


def test_edge_lm_rejects_bad_inputs(model_dir: Path, prompts: list) -> None:
    lm = OrtEdgeLM(model_dir)
    with pytest.raises(ValueError, match="visual must be"):
        lm.generate(np.zeros((1, 8, 128), np.float32), prompts[:1], 0, 2)
    with pytest.raises(ValueError, match="prompts for"):
        lm.generate(np.zeros((2, 9, 128), np.float32), prompts[:1], 0, 2)
    with pytest.raises(ValueError, match="positions"):
        lm.generate(np.zeros((1, 9, 128), np.float32), prompts[:1], 0, 2, max_new_tokens=60)


def test_visual_rejects_bad_inputs(model_dir: Path, pixels: np.ndarray) -> None:
    vis = OrtVisual(model_dir)
    assert vis.run(pixels, 1) is pixels
    with pytest.raises(ValueError, match="uint8"):
        vis.run(pixels.astype(np.float32), 8)
    with pytest.raises(ValueError, match="no prefix graph"):
        vis.run(pixels, 9)
    with pytest.raises(ValueError, match="precision"):
        OrtVisual(model_dir, precision="fp16")


def test_missing_files_raise_model_files_error(tmp_path: Path, model_dir: Path,
                                               pixels: np.ndarray) -> None:
    with pytest.raises(ModelFilesError, match="manifest.json"):
        OrtVisual(tmp_path)
    shutil.copy(model_dir / MANIFEST_FILE, tmp_path / MANIFEST_FILE)
    with pytest.raises(ModelFilesError, match="missing graph"):
        OrtVisual(tmp_path).run(pixels, 8)
