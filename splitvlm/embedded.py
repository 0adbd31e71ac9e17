"""Edge, fog and cloud in one process on free loopback ports (the demo, tests, benchmarks).

    async with embedded_cluster() as cluster:
        async with AsyncClient(cluster.edge_target) as client: ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from splitvlm.config import ServiceConfig
from splitvlm.plan.plan import Tier
from splitvlm.service.launch import builder_for
from splitvlm.service.server import Running


@dataclass
class Cluster:
    edge: Running
    fog: Running
    cloud: Running

    @property
    def edge_target(self) -> str:
        return f"127.0.0.1:{self.edge.port}"

    def tier(self, tier: Tier) -> Running:
        return {Tier.EDGE: self.edge, Tier.FOG: self.fog, Tier.CLOUD: self.cloud}[tier]


@asynccontextmanager
async def embedded_cluster(checkpoint_dir: Path | None = None, threads: int = 1,
                           **overrides: Any) -> AsyncIterator[Cluster]:
    """Start cloud, fog, edge (each pointing at the next) and stop them on exit."""
    common = {"checkpoint_dir": str(checkpoint_dir or ""), "threads": threads, **overrides}
    started: list[Running] = []
    try:
        cloud = await builder_for(Tier.CLOUD)(ServiceConfig(Tier.CLOUD, **common))
        started.append(cloud)
        fog = await builder_for(Tier.FOG)(
            ServiceConfig(Tier.FOG, next_hop=f"127.0.0.1:{cloud.port}", **common))
        started.append(fog)
        edge = await builder_for(Tier.EDGE)(
            ServiceConfig(Tier.EDGE, next_hop=f"127.0.0.1:{fog.port}", **common))
        started.append(edge)
        yield Cluster(edge, fog, cloud)
    finally:
        for running in reversed(started):
            await running.stop(1.0)
