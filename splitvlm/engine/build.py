"""An engine for a tier's LM from its checkpoint: the cloud's large LM, the fog's mid one."""

from __future__ import annotations

from pathlib import Path

from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.engine.config import EngineConfig
from splitvlm.engine.engine import Engine
from splitvlm.model.lm import LM
from splitvlm.model.zoo import load_lm


def engine_for_tier(
    tier: str, cfg: EngineConfig, lm: LM | None = None, directory: Path = CHECKPOINT_DIR
) -> Engine:
    """The engine over `lm`, or over the tier's LM loaded from `directory` (CheckpointError if
    missing). Not started: call start(), and stop() on shutdown."""
    tokenizer = Tokenizer()
    model = load_lm(tier, directory) if lm is None else lm
    return Engine(model, cfg, tokenizer.pad_id, tokenizer.eos_id)
