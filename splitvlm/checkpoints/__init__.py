"""Shipped weights: safetensors + JSON configs, and the ONNX graphs the edge runs."""

from pathlib import Path

CHECKPOINT_DIR = Path(__file__).resolve().parent
ONNX_SUBDIR = "onnx"  # CHECKPOINTS/onnx: the edge's graphs, built by `splitvlm export`


def lm_name(tier: str) -> str:
    return f"lm-{tier}"
