"""The cloud tier's LM engine: the large LM of the family under continuous batching."""

from __future__ import annotations

from pathlib import Path

from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.engine import Engine, EngineConfig, engine_for_tier
from splitvlm.model.lm import LM

TIER = "cloud"


def build_engine(
    cfg: EngineConfig | None = None, lm: LM | None = None, directory: Path = CHECKPOINT_DIR
) -> Engine:
    """The cloud's engine (not started) from its config; the LM from `directory` unless given."""
    return engine_for_tier(TIER, cfg or EngineConfig(), lm, directory)
