"""Random-init models exported once per session into a temporary model directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.data import Sample, Tokenizer, held_out_set
from splitvlm.model.lm import LM
from splitvlm.model.vlm import VisualConfig, VisualSide
from splitvlm.model.zoo import lm_config
from splitvlm.runtime.export import export_edge_lm, export_visual
from splitvlm.runtime.quantize import quantize_visual

torch.set_num_threads(1)  # a training job may share the machine


@pytest.fixture(scope="session")
def visual_side() -> VisualSide:
    torch.manual_seed(0)
    return VisualSide(VisualConfig()).eval()


@pytest.fixture(scope="session")
def edge_lm(visual_side: VisualSide) -> LM:
    torch.manual_seed(1)
    lm = LM(lm_config("edge", visual_side.cfg)).eval()
    lm.set_cell_head(*visual_side.cell_head_params())  # exercise the object-rank path
    return lm


@pytest.fixture(scope="session")
def samples() -> list[Sample]:
    return held_out_set(per_type=4)[:30]


@pytest.fixture(scope="session")
def pixels(samples: list[Sample]) -> np.ndarray:
    return np.stack([s.image() for s in samples[:8]])  # (8, 64, 64, 3) uint8


@pytest.fixture(scope="session")
def prompts(samples: list[Sample]) -> list[list[int]]:
    tok = Tokenizer()
    return [tok.encode(s.qa.question) + [tok.ans_id] for s in samples]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, visual_side: VisualSide,
              edge_lm: LM) -> Path:
    """fp32 prefixes, their dynamic int8 versions and the edge LM's two graphs."""
    out = tmp_path_factory.mktemp("onnx")
    export_visual(visual_side, out, version="v-test")
    export_edge_lm(edge_lm, out, version="lm-test")
    quantize_visual(out)
    return out
