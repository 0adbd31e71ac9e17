"""The cloud service: fp32 vision and the large LM.

    splitvlm serve cloud --config deploy/cloud.toml
"""

from __future__ import annotations

from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor
from splitvlm.executor.builders import torch_compute
from splitvlm.plan.plan import Tier
from splitvlm.service.server import Running, create_server


async def build(config: ServiceConfig) -> Running:
    compute = torch_compute(config.checkpoints, "cloud", config.threads)
    return await create_server(config, Executor(Tier.CLOUD, compute))
