from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from splitvlm.runtime.ort import LM_PREFILL_FILE, OrtVisual, session
from splitvlm.runtime.quantize import (
    integer_path_matmuls,
    quantize_dynamic_int8,
    quantize_static_qdq,
)


@pytest.mark.parametrize("cut", range(2, 9))
def test_int8_prefix_close_to_fp32(model_dir: Path, pixels: np.ndarray, cut: int) -> None:
    fp32 = OrtVisual(model_dir).run(pixels, cut)
    int8 = OrtVisual(model_dir, precision="int8").run(pixels, cut)
    scale = np.abs(fp32).max()
    err = np.abs(int8 - fp32).max()
    print(f"cut {cut}: int8 max abs error {err:.4f} ({err / scale:.2%} of max |x| {scale:.3f})")
    assert err < 0.05 * scale


def test_int8_graphs_hold_int8_weights(model_dir: Path) -> None:
    model = onnx.load(str(model_dir / "visual_prefix_8.int8.onnx"))
    ops = {n.op_type for n in model.graph.node}
    assert "DynamicQuantizeLinear" in ops or "DynamicQuantizeMatMul" in ops
    assert (model_dir / "visual_prefix_8.int8.onnx").stat().st_size < \
        0.4 * (model_dir / "visual_prefix_8.onnx").stat().st_size


def test_lm_integer_path_stays_fp32(model_dir: Path, tmp_path: Path) -> None:
    src = model_dir / LM_PREFILL_FILE
    excluded = integer_path_matmuls(onnx.load(str(src)))
    assert len(excluded) == 1  # the frozen cell head feeding ArgMax -> CumSum
    dst = quantize_dynamic_int8(src, tmp_path / "prefill.int8.onnx")
    model = onnx.load(str(dst))
    producer = {o: n for n in model.graph.node for o in n.output}
    argmax = next(n for n in model.graph.node if n.op_type == "ArgMax")
    node = producer[argmax.input[0]]
    while node.op_type in ("Add", "Split", "Slice"):  # back through the head's bias and split
        node = producer[node.input[0]]
    assert node.op_type == "MatMul"  # not MatMulInteger / DynamicQuantizeMatMul
    ops = {n.op_type for n in model.graph.node}
    assert "Gather" in ops and "CumSum" in ops  # embeddings and ranks untouched


def test_static_qdq_close_to_fp32(model_dir: Path, pixels: np.ndarray, tmp_path: Path) -> None:
    src = model_dir / "visual_prefix_8.onnx"
    dst = quantize_static_qdq(src, tmp_path / "static.onnx", pixels)
    fp32 = session(src).run(None, {"pixels": pixels})[0]
    qdq = session(dst).run(None, {"pixels": pixels})[0]
    assert np.abs(qdq - fp32).max() < 0.1 * np.abs(fp32).max()
    with pytest.raises(ValueError, match="uint8"):
        quantize_static_qdq(src, tmp_path / "x.onnx", pixels.astype(np.float32))
