"""The edge's ONNX graphs of a Hugging Face VLM: one visual prefix per cut (pixels -> the
boundary at cut k), fp32 and dynamic INT8, as for the shipped encoder.

    onnx_dir = ensure_exported(family, model_dir)   # model_dir/splitvlm-onnx, made once
    splitvlm hf export DIR                          # the same, ahead of time

The graphs are keyed by `visual_version` (a hash of the visual weights and the graph): a
changed model is exported again, an unchanged one is read as it is.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from splitvlm.errors import ConfigError
from splitvlm.model.hf.family import Family
from splitvlm.runtime.export import export_prefixes
from splitvlm.runtime.hf_stages import HFVisual
from splitvlm.runtime.ort import ModelFilesError, read_manifest
from splitvlm.runtime.quantize import quantize_visual

HF_ONNX_SUBDIR = "splitvlm-onnx"
log = logging.getLogger(__name__)


def visual_version(family: Family) -> str:
    """A hash of what the visual stages compute: the graph and the weights of the modules they
    use. Tiers that agree on it may exchange boundary tensors and cache references."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(dataclasses.asdict(family.graph)).encode())
    digest.update(family.name.encode())
    for module in family.stage_modules():
        for name, tensor in sorted(module.state_dict().items()):
            digest.update(name.encode())
            # a view of the weights, not a copy (fp32 models; others are cast once)
            digest.update(np.ascontiguousarray(tensor.detach().float().numpy()).data)
    return f"hf-{family.name}-{digest.hexdigest()}"


def export_hf(family: Family, out_dir: Path, version: str | None = None) -> dict[str, Any]:
    """Every prefix graph of `family`'s visual stages, fp32 then INT8; returns the manifest."""
    version = version or visual_version(family)
    config = {"family": family.name, "model_type": str(family.config.model_type)}
    export_prefixes(HFVisual(family), out_dir, config, version, family.export_batch)
    return quantize_visual(out_dir)


def ensure_exported(family: Family, model_dir: Path, version: str | None = None) -> Path:
    """model_dir/splitvlm-onnx holding this model's graphs: read if current, else made."""
    out = model_dir / HF_ONNX_SUBDIR
    version = version or visual_version(family)
    try:
        if read_manifest(out).get("visual", {}).get("version") == version:
            return out
    except ModelFilesError:
        pass
    log.info("exporting %s's visual prefixes to %s (once per model)", family.name, out)
    try:
        export_hf(family, out, version)
    except OSError as exc:
        raise ConfigError(f"model_dir: cannot write the edge's ONNX graphs to {out}: {exc}; "
                          f"run `splitvlm hf export {model_dir}` where it is writable") from exc
    return out
