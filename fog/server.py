"""The fog service: fp32 vision, the feature cache (L2) and the mid-size LM (batched).

    splitvlm serve fog --config deploy/fog.toml
"""

from __future__ import annotations

from splitvlm.cache import FeatureCache
from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor
from splitvlm.executor.builders import engine_compute
from splitvlm.plan.plan import Tier
from splitvlm.service.server import Running, create_server, forwarder_for, next_hop_channel


async def build(config: ServiceConfig) -> Running:
    compute, stop_engine = engine_compute(config.checkpoints, "fog", config.threads,
                                          config.max_batch, config.max_waiting)
    channel = next_hop_channel(config)
    executor = Executor(Tier.FOG, compute, forwarder_for(channel),
                        FeatureCache(config.cache_bytes))
    running = await create_server(config, executor, channels=[c for c in [channel] if c])
    running.on_stop.append(stop_engine)
    return running
