"""`splitvlm export`: every ONNX graph the edge needs, from a checkpoint directory.

    CHECKPOINTS/onnx/visual_prefix_{k}.onnx      fp32, pixels -> cut k   (k = 2..prefill)
    CHECKPOINTS/onnx/visual_prefix_{k}.int8.onnx dynamic INT8 of the same
    CHECKPOINTS/onnx/lm_prefill.onnx, lm_decode.onnx   the edge's tiny LM
    CHECKPOINTS/onnx/manifest.json
"""

from __future__ import annotations

import sys
from pathlib import Path

from splitvlm.checkpoints import ONNX_SUBDIR
from splitvlm.model import zoo
from splitvlm.runtime.export import export_edge_lm, export_visual
from splitvlm.runtime.quantize import quantize_visual


def export_all(checkpoints: Path, out: Path | None = None) -> Path:
    out = out or checkpoints / ONNX_SUBDIR
    visual_doc = zoo.read_meta(checkpoints / "visual")
    export_visual(zoo.load_visual(checkpoints), out, version=visual_doc["hash"])
    quantize_visual(out)
    lm_doc = zoo.read_meta(checkpoints / "lm-edge")
    export_edge_lm(zoo.load_lm("edge", checkpoints), out, version=lm_doc["hash"])
    print(f"exported ONNX graphs to {out}", file=sys.stderr, flush=True)
    return out
