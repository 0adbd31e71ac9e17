"""The edge's ONNX prefixes of a Hugging Face VLM against its torch stages, at every cut.

fp32: within 1e-4 absolute (measured ~3e-6: ONNX Runtime fuses and reorders float sums).
INT8 (dynamic, 7-bit per-tensor weights, 8-bit activations per call, as for the shipped
encoder): the largest error at most 8% of the boundary's largest magnitude. A weight step is
max|w|/63 (1.6%), each quantized MatMul adds one, and a few compound through the blocks: the
tiny models measure 2.5-3.3%; a broken graph (a wrong cut, a lost norm) errs by ~100%.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from splitvlm.errors import ConfigError
from splitvlm.model.hf import load
from splitvlm.model.hf.tiny import TINY
from splitvlm.runtime.hf_export import HF_ONNX_SUBDIR, ensure_exported, visual_version
from splitvlm.runtime.hf_stages import HFVisual
from splitvlm.runtime.ort import OrtVisual, read_manifest

FP32_ATOL = 1e-4
INT8_RELATIVE = 0.08


@pytest.mark.parametrize("name", TINY)
def test_prefixes_match_torch_at_every_cut(name: str, tiny_dir: Callable[[str], Path]
                                           ) -> None:
    directory = tiny_dir(name)
    family = load(directory)
    onnx_dir = ensure_exported(family, directory)
    torch_stages, graph = HFVisual(family), family.graph
    fp32, int8 = OrtVisual(onnx_dir, "fp32"), OrtVisual(onnx_dir, "int8")
    assert fp32.graph == graph
    s = graph.image_size
    pixels = np.random.default_rng(5).integers(0, 256, (1, s, s, 3), dtype=np.uint8)
    for cut in graph.tensor_cuts:
        expected = torch_stages.run(pixels, graph.patch_embed, cut)
        np.testing.assert_allclose(fp32.run(pixels, cut), expected, rtol=0, atol=FP32_ATOL)
        error = np.abs(int8.run(pixels, cut) - expected).max()
        assert error <= INT8_RELATIVE * np.abs(expected).max(), (cut, error)


def test_graphs_are_made_once_and_again_for_other_weights(
        tiny_dir: Callable[[str], Path], tmp_path: Path) -> None:
    family = load(tiny_dir("idefics3"))
    out = ensure_exported(family, tmp_path)
    assert out == tmp_path / HF_ONNX_SUBDIR
    made = (out / "visual_prefix_2.onnx").stat().st_mtime_ns
    assert ensure_exported(family, tmp_path) == out
    assert (out / "visual_prefix_2.onnx").stat().st_mtime_ns == made  # current: kept
    before = visual_version(family)
    tower = family.model.model.vision_model
    tower.post_layernorm.weight.data += 1.0  # other weights: another version, new graphs
    assert visual_version(family) != before
    ensure_exported(family, tmp_path)
    assert read_manifest(out)["visual"]["version"] == visual_version(family)


def test_a_directory_it_cannot_write_is_a_config_error(
        tiny_dir: Callable[[str], Path], tmp_path: Path) -> None:
    family = load(tiny_dir("llava"))
    blocked = tmp_path / "ro"
    blocked.write_text("a file where the directory would go")
    with pytest.raises(ConfigError, match="splitvlm hf export"):
        ensure_exported(family, blocked)
