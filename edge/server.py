"""The edge service: ONNX Runtime vision (INT8 / fp32), the tiny LM, the planner, the L1, and
the client-facing EdgeService.

    splitvlm serve edge --config deploy/edge.toml
"""

from __future__ import annotations

from pathlib import Path

from edge.l1 import EdgeL1
from edge.planning import EdgePlanner, accuracy_dir, load_accuracy, load_calibration
from edge.service import EdgeServicer
from splitvlm.cache import FeatureCache
from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor, NextHop
from splitvlm.executor.builders import edge_compute, hf_compute
from splitvlm.executor.measure import measure_tier
from splitvlm.plan.plan import Tier
from splitvlm.service.admission import Admission
from splitvlm.service.credentials import guard
from splitvlm.service.server import TierBundle
from splitvlm.service.telemetry import Telemetry


async def build(config: ServiceConfig, next_hop: NextHop | None) -> TierBundle:
    compute = (hf_compute(Path(config.model_dir), "edge", config.threads) if config.model_dir
               else edge_compute(config.checkpoints, config.threads))
    profile = await measure_tier(Tier.EDGE, compute)
    executor = Executor(Tier.EDGE, compute, profile, next_hop,
                        FeatureCache(config.edge_cache_bytes))  # its own visual tokens
    planner = await EdgePlanner.create(
        compute.graph, profile, load_accuracy(accuracy_dir(config)),
        None if next_hop is None else next_hop.downstream, config.edge_precision,
        load_calibration(accuracy_dir(config)), compute.visual_version)
    telemetry = Telemetry.start(config, executor)
    return TierBundle(executor, EdgeServicer(executor, planner, EdgeL1(),
                                             config.max_payload_bytes, guard(config),
                                             Admission(config.max_inflight), telemetry),
                      on_stop=[planner.close], telemetry=telemetry,
                      on_peers=[planner.refresh])  # discovered fogs: plan with them at once
