"""A scratch checkpoint directory (the shipped visual side and edge LM) and a small pool."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from splitvlm.training import lm as lm_training


@pytest.fixture
def scratch_checkpoints(checkpoints: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                        ) -> Path:
    """tmp_path/ckpt with copies of the visual side and the edge LM; the training pool is 64
    scenes (encoded in a second) and validation asks one question per type."""
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    for name in ("visual", "lm-edge"):
        for suffix in (".json", ".safetensors"):
            shutil.copy(checkpoints / f"{name}{suffix}", ckpt / f"{name}{suffix}")
    monkeypatch.setattr(lm_training, "POOL_SCENES", 64)
    monkeypatch.setattr(lm_training, "VALID_PER_TYPE", 1)
    return ckpt
