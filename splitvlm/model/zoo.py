"""The model family: LM sizes per tier, and checkpoints (safetensors + JSON config).

A checkpoint is `NAME.safetensors` beside `NAME.json`; the JSON holds the config, the visual
side's version hash and how it was trained. Shipped ones live in `splitvlm/checkpoints/`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from splitvlm.checkpoints import CHECKPOINT_DIR, lm_name
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.model.lm import LM, LMConfig
from splitvlm.model.projector import ProjectorConfig
from splitvlm.model.vision import VisionConfig
from splitvlm.model.vlm import VisualConfig, VisualSide

LM_TIERS = ("edge", "fog", "cloud")
# Each larger LM is grown from the next smaller one (splitvlm/training/grow.py): width x2
# with the head width kept (heads x2), and depth 2 -> 4 -> 6; about 1 : 7 : 41 parameters.
LM_SIZES: dict[str, dict[str, int]] = {
    "edge": {"dim": 64, "depth": 2, "heads": 2},
    "fog": {"dim": 128, "depth": 4, "heads": 4},
    "cloud": {"dim": 256, "depth": 6, "heads": 8},
}


class CheckpointError(RuntimeError):
    """A checkpoint is missing or does not fit the model asked for."""


def lm_config(tier: str, visual: VisualConfig) -> LMConfig:
    if tier not in LM_SIZES:
        raise ValueError(f"unknown LM tier {tier!r}; expected one of {LM_TIERS}")
    return LMConfig(
        vocab_size=len(Tokenizer()), visual_dim=visual.projector.out_dim,
        n_visual=visual.projector.n_queries, **LM_SIZES[tier],
    )


def weights_hash(model: torch.nn.Module, config: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def save(model: torch.nn.Module, config: Any, path: Path, **meta: Any) -> dict[str, Any]:
    """Write PATH.safetensors and PATH.json; returns the JSON document."""
    cfg = dataclasses.asdict(config)
    doc = {"config": cfg, "hash": weights_hash(model, cfg), **meta}
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path.with_suffix(".safetensors")))
    path.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def read_meta(path: Path) -> dict[str, Any]:
    meta_path = path.with_suffix(".json")
    if not meta_path.exists():
        raise CheckpointError(f"no checkpoint at {meta_path}; run `splitvlm train` first")
    return dict(json.loads(meta_path.read_text()))


def visual_config(doc: dict[str, Any]) -> VisualConfig:
    cfg = doc["config"]
    return VisualConfig(VisionConfig(**cfg["vision"]), ProjectorConfig(**cfg["projector"]))


def load_visual(directory: Path = CHECKPOINT_DIR) -> VisualSide:
    doc = read_meta(directory / "visual")
    model = VisualSide(visual_config(doc))
    model.load_state_dict(load_file(str(directory / "visual.safetensors")))
    return model.eval()


def load_lm(tier: str, directory: Path = CHECKPOINT_DIR) -> LM:
    doc = read_meta(directory / lm_name(tier))
    visual_doc = read_meta(directory / "visual")
    if doc["visual_hash"] != visual_doc["hash"]:
        raise CheckpointError(
            f"LM {tier!r} was trained on visual side {doc['visual_hash']}, but {directory} "
            f"holds {visual_doc['hash']}: retrain the LM or restore the matching visual side"
        )
    model = LM(LMConfig(**doc["config"]))
    model.load_state_dict(load_file(str(directory / f"{lm_name(tier)}.safetensors")))
    return model.eval()


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
