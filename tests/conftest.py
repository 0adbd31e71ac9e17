"""Fixtures shared by the whole suite: the shipped checkpoints, with their ONNX graphs."""

from __future__ import annotations

from pathlib import Path

import pytest

from splitvlm.checkpoints import CHECKPOINT_DIR


@pytest.fixture(scope="session")
def checkpoints() -> Path:
    """The shipped checkpoints; exports the ONNX graphs once if `make install` has not."""
    if not (CHECKPOINT_DIR / "visual.json").exists():
        pytest.fail("no shipped checkpoints in splitvlm/checkpoints: run `splitvlm train`")
    if not (CHECKPOINT_DIR / "onnx" / "manifest.json").exists():
        from splitvlm.runtime.export_all import export_all

        export_all(CHECKPOINT_DIR)
    return CHECKPOINT_DIR
