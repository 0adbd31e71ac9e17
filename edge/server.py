"""The edge service: ONNX Runtime vision (INT8 / fp32), the tiny LM, the planner, the L1, and
the client-facing Edge API.

    splitvlm serve edge --config deploy/edge.toml
"""

from __future__ import annotations

from edge.l1 import EdgeL1
from edge.planning import EdgePlanner, load_accuracy, load_calibration
from edge.service import EdgeServicer
from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor
from splitvlm.executor.builders import edge_compute
from splitvlm.executor.measure import measure_tier
from splitvlm.plan.plan import Tier
from splitvlm.service.server import Running, create_server, forwarder_for, next_hop_channel


async def build(config: ServiceConfig) -> Running:
    compute = edge_compute(config.checkpoints, config.threads)
    channel = next_hop_channel(config)
    forwarder = forwarder_for(channel)
    executor = Executor(Tier.EDGE, compute, forwarder)
    executor.profile = await measure_tier(Tier.EDGE, compute)
    planner = await EdgePlanner.create(compute.graph, executor.profile,
                                       load_accuracy(config.checkpoints), forwarder,
                                       config.edge_precision,
                                       load_calibration(config.checkpoints))
    servicer = EdgeServicer(executor, planner, EdgeL1(), config.max_payload_bytes)
    return await create_server(config, executor, servicer, [c for c in [channel] if c])
