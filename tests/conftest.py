"""Fixtures shared by the whole suite: the shipped checkpoints, with their ONNX graphs.

    SPLITVLM_TEST_CHECKPOINTS=/tmp/randck pytest tests/service   # other weights, same tests

The override also reaches every `splitvlm serve` process a test starts, through
SPLITVLM_CHECKPOINT_DIR.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from splitvlm.checkpoints import CHECKPOINT_DIR

OVERRIDE_ENV = "SPLITVLM_TEST_CHECKPOINTS"


@pytest.fixture(scope="session")
def checkpoints() -> Iterator[Path]:
    """The shipped checkpoints (or $SPLITVLM_TEST_CHECKPOINTS); exports the ONNX graphs once."""
    directory = Path(os.environ.get(OVERRIDE_ENV) or CHECKPOINT_DIR)
    if not (directory / "visual.json").exists():
        pytest.fail(f"no checkpoints in {directory}: run `splitvlm train`")
    if not (directory / "onnx" / "manifest.json").exists():
        from splitvlm.runtime.export_all import export_all

        export_all(directory)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPLITVLM_CHECKPOINT_DIR", str(directory))  # for `splitvlm serve` children
        yield directory


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A tiny random Hugging Face VLM of a family (splitvlm.model.hf.tiny), saved once per
    session: `tiny_dir("qwen2_vl")` is its directory."""
    from splitvlm.model.hf.tiny import save_tiny

    made: dict[str, Path] = {}

    def directory(family: str) -> Path:
        if family not in made:
            made[family] = save_tiny(family, tmp_path_factory.mktemp("hf") / family)
        return made[family]

    return directory
