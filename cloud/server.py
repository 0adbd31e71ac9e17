"""The cloud service: fp32 vision and the large LM under continuous batching.

    splitvlm serve cloud --config deploy/cloud.toml
"""

from __future__ import annotations

from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor
from splitvlm.executor.builders import engine_compute
from splitvlm.plan.plan import Tier
from splitvlm.service.server import Running, create_server


async def build(config: ServiceConfig) -> Running:
    compute, stop_engine = engine_compute(config.checkpoints, "cloud", config.threads,
                                          config.max_batch, config.max_waiting)
    running = await create_server(config, Executor(Tier.CLOUD, compute))
    running.on_stop.append(stop_engine)
    return running
