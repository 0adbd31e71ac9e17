"""The whole visual side as one function, in torch fp32 or ONNX Runtime INT8: what the
evaluation and the benchmarks feed the LMs.

    encode = visual_tokens("int8", checkpoints)
    visual = encode(pixels)          # (B, S, S, 3) uint8 -> (B, N', Dl) float32
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from splitvlm.checkpoints import ONNX_SUBDIR

VisualTokens = Callable[[np.ndarray], np.ndarray]


def visual_tokens(vision: str, checkpoints: Path) -> VisualTokens:
    """`vision`: fp32 (torch, any machine with the [torch] extra) or int8 (the edge's ONNX
    graphs, from `splitvlm export`)."""
    if vision == "fp32":
        import torch

        from splitvlm.model import zoo

        model = zoo.load_visual(checkpoints)

        def run(pixels: np.ndarray) -> np.ndarray:
            with torch.no_grad():  # torch.tensor copies: decoded images may be read-only
                return np.asarray(model(torch.tensor(pixels)).numpy())

        return run
    from splitvlm.runtime.ort import OrtVisual

    ort_visual = OrtVisual(checkpoints / ONNX_SUBDIR, vision)
    return lambda pixels: np.asarray(ort_visual.run(pixels, ort_visual.graph.prefill))
