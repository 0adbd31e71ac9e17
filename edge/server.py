"""The edge service: ONNX Runtime vision (INT8 / fp32) and the tiny LM, and the Edge API.

    splitvlm serve edge --config deploy/edge.toml
"""

from __future__ import annotations

from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor
from splitvlm.executor.builders import edge_compute
from splitvlm.plan.named import named_plan
from splitvlm.plan.plan import Plan, Tier
from splitvlm.service.edge_service import EdgeServicer
from splitvlm.service.server import Running, create_server, forwarder_for, next_hop_channel
from splitvlm.v1 import edge_pb2

DEFAULT_PLAN = "edge-vision+cloud-lm"


async def build(config: ServiceConfig) -> Running:
    compute = edge_compute(config.checkpoints, config.threads)
    channel = next_hop_channel(config)
    executor = Executor(Tier.EDGE, compute, forwarder_for(channel))

    def choose(request: edge_pb2.AskRequest) -> tuple[Plan, str]:
        name = request.plan if request.plan and request.plan != "auto" else DEFAULT_PLAN
        plan = named_plan(name, compute.graph, config.edge_precision)
        return plan, f"fixed plan {name}: {plan.describe(compute.graph)}"

    servicer = EdgeServicer(executor, choose, config.max_payload_bytes)
    return await create_server(config, executor, servicer, [c for c in [channel] if c])
