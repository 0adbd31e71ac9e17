"""The fog service: fp32 vision, the feature cache (L2) and the mid-size LM (batched).

    splitvlm serve fog --config deploy/fog.toml
"""

from __future__ import annotations

from pathlib import Path

from splitvlm.cache import FeatureCache
from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor, NextHop
from splitvlm.executor.builders import engine_compute, hf_compute
from splitvlm.executor.measure import measure_tier
from splitvlm.plan.plan import Tier
from splitvlm.service.server import TierBundle


def _idle() -> None:
    """Nothing to stop: no engine thread."""


async def build(config: ServiceConfig, next_hop: NextHop | None) -> TierBundle:
    if config.model_dir:  # a Hugging Face VLM: its own generate, one request at a time
        compute, stop_engine = hf_compute(Path(config.model_dir), "fog", config.threads), _idle
    else:
        compute, stop_engine = engine_compute(config.checkpoints, "fog", config.threads,
                                              config.max_batch, config.max_waiting)
    try:
        profile = await measure_tier(Tier.FOG, compute)
    except BaseException:
        stop_engine()
        raise
    executor = Executor(Tier.FOG, compute, profile, next_hop, FeatureCache(config.cache_bytes))
    return TierBundle(executor, on_stop=[stop_engine])
