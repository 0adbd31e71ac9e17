"""INT8 versions of the exported graphs, with ONNX Runtime's quantization tools. No torch.

    from splitvlm.runtime.quantize import quantize_visual
    quantize_visual("model_dir")   # visual_prefix_{k}.onnx -> visual_prefix_{k}.int8.onnx

`quantize_dynamic_int8` is what the edge runs: weights of MatMul/Gemm become int8 offline,
activations are quantized per call (no calibration). Integer paths stay exact: Gather
(embeddings, positions) is never quantized, and a MatMul whose result feeds an ArgMax (the
LM's frozen occupancy head, argmax -> cumsum -> object rank) keeps fp32 weights.
`quantize_static_qdq` (calibrated QDQ) exists for comparison.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from splitvlm.runtime.ort import MANIFEST_FILE, prefix_file, read_manifest

WEIGHT_TYPES = {"qint8": QuantType.QInt8, "quint8": QuantType.QUInt8}
QUANTIZED_OPS = ["MatMul", "Gemm"]
# Ops that pass an fp32 value through unchanged in meaning, between a MatMul and an ArgMax.
_PASS_THROUGH = {"Add", "Sub", "Mul", "Div", "Identity", "Reshape", "Transpose", "Squeeze",
                 "Unsqueeze", "Cast", "Split", "Slice", "Gather"}


def integer_path_matmuls(model: onnx.ModelProto) -> list[str]:
    """Names of the MatMul/Gemm nodes whose output reaches an ArgMax through elementwise ops:
    quantizing them could flip the argmax and so change an integer (object rank)."""
    producer = {out: node for node in model.graph.node for out in node.output}
    found: list[str] = []
    stack = [node.input[0] for node in model.graph.node if node.op_type == "ArgMax"]
    seen: set[str] = set()
    while stack:
        name = stack.pop()
        node = producer.get(name)
        if node is None or name in seen:
            continue
        seen.add(name)
        if node.op_type in QUANTIZED_OPS:
            found.append(node.name)
        elif node.op_type in _PASS_THROUGH:
            stack.extend(i for i in node.input if i)
    return found


def quantize_dynamic_int8(
    src: str | Path, dst: str | Path, *, weight_type: str = "qint8", per_channel: bool = False,
    reduce_range: bool = True, preprocess: bool = False,
) -> Path:
    """Dynamic INT8 (int8 weights, activations quantized per call) of MatMul/Gemm only.

    The defaults (QInt8 weights in 7 bits, per tensor) are the fastest accurate setting on
    x86 without VNNI: full 8-bit QInt8 weights overflow the u8 x s8 kernel's int16 sums there
    (errors of ~25% of the activation scale), QUInt8 weights run a slower u8 x u8 kernel.
    `preprocess` (symbolic shape inference + ORT's basic optimizations) changed nothing here.
    """
    if weight_type not in WEIGHT_TYPES:
        raise ValueError(f"weight_type={weight_type!r}; expected one of {list(WEIGHT_TYPES)}")
    dst = Path(dst)
    with tempfile.TemporaryDirectory() as tmp:
        model_path = _preprocessed(Path(src), Path(tmp)) if preprocess else Path(src)
        model = onnx.load(str(model_path))
        _name_nodes(model)
        with _without_preprocess_hint():
            quantize_dynamic(
                model, dst, op_types_to_quantize=QUANTIZED_OPS, per_channel=per_channel,
                reduce_range=reduce_range, weight_type=WEIGHT_TYPES[weight_type],
                nodes_to_exclude=integer_path_matmuls(model),
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # contrib ops
            )
    return dst


class _PixelReader(CalibrationDataReader):
    """Feeds calibration images one at a time: {input_name: (1, S, S, 3) uint8}."""

    def __init__(self, input_name: str, pixels: np.ndarray) -> None:
        self._batches: Iterator[dict[str, np.ndarray]] = (
            {input_name: pixels[i:i + 1]} for i in range(len(pixels))
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def quantize_static_qdq(
    src: str | Path, dst: str | Path, pixels: np.ndarray, *, per_channel: bool = False,
    reduce_range: bool = True, input_name: str = "pixels",
) -> Path:
    """Static INT8 in QDQ format, activation ranges calibrated (MinMax) on `pixels`
    (n, S, S, 3) uint8, ~64 images. For comparison with the dynamic graphs."""
    if pixels.dtype != np.uint8 or pixels.ndim != 4 or len(pixels) == 0:
        raise ValueError(f"pixels must be (n, S, S, 3) uint8, got {pixels.shape} {pixels.dtype}")
    dst = Path(dst)
    with tempfile.TemporaryDirectory() as tmp:
        model_path = _preprocessed(Path(src), Path(tmp))
        quantize_static(
            model_path, dst, _PixelReader(input_name, pixels), quant_format=QuantFormat.QDQ,
            op_types_to_quantize=QUANTIZED_OPS, per_channel=per_channel,
            reduce_range=reduce_range, activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
    return dst


def quantize_visual(
    model_dir: str | Path, *, weight_type: str = "qint8", per_channel: bool = False,
    reduce_range: bool = True,
) -> dict[str, Any]:
    """`quantize_dynamic_int8` every visual prefix in `model_dir`; records them in the
    manifest (files["int8"], with the settings used) and returns it."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    settings: dict[str, Any] = {"weight_type": weight_type, "per_channel": per_channel,
                "reduce_range": reduce_range}
    for prefix in manifest["visual"]["prefixes"]:
        src = model_dir / prefix["files"]["fp32"]["file"]
        dst = quantize_dynamic_int8(
            src, model_dir / prefix_file(prefix["cut"], "int8"), weight_type=weight_type,
            per_channel=per_channel, reduce_range=reduce_range,
        )
        prefix["files"]["int8"] = {"file": dst.name, "bytes": dst.stat().st_size,
                                   "quantization": {"mode": "dynamic", **settings}}
    (model_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _preprocessed(src: Path, tmp: Path) -> Path:
    """Symbolic shape inference + ONNX Runtime's basic graph optimizations."""
    out = tmp / f"pre_{src.name}"
    quant_pre_process(str(src), str(out), skip_symbolic_shape=False)
    return out


class _DropPreprocessHint(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


@contextmanager
def _without_preprocess_hint() -> Iterator[None]:
    """quantize_dynamic logs a hint to pre-process; skipping it is deliberate (no gain)."""
    hint = _DropPreprocessHint()
    logging.getLogger().addFilter(hint)
    try:
        yield
    finally:
        logging.getLogger().removeFilter(hint)


def _name_nodes(model: onnx.ModelProto) -> None:
    """Give unnamed nodes a name: nodes_to_exclude matches by name."""
    for i, node in enumerate(model.graph.node):
        if not node.name:
            node.name = f"{node.op_type}_{i}"
