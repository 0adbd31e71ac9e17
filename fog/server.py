"""The fog service: fp32 vision, the feature cache (L2) and the mid-size LM.

    splitvlm serve fog --config deploy/fog.toml
"""

from __future__ import annotations

from splitvlm.cache import FeatureCache
from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor
from splitvlm.executor.builders import torch_compute
from splitvlm.plan.plan import Tier
from splitvlm.service.server import Running, create_server, forwarder_for, next_hop_channel


async def build(config: ServiceConfig) -> Running:
    compute = torch_compute(config.checkpoints, "fog", config.threads)
    channel = next_hop_channel(config)
    executor = Executor(Tier.FOG, compute, forwarder_for(channel),
                        FeatureCache(config.cache_bytes))
    return await create_server(config, executor, channels=[c for c in [channel] if c])
