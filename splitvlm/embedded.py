"""Edge, fog and cloud in one process (the demo, tests, benchmarks).

    async with embedded_cluster() as cluster:                    # tiers joined in-process
        async with AsyncClient(cluster.edge_target) as client: ...
    async with embedded_cluster(transport="grpc") as cluster:    # each tier a loopback server

`transport="local"` (the default) joins the tiers with splitvlm.executor.local: no gRPC and no
serialization between them, only the edge is served (the SDK's way in). `transport="grpc"`
serves every tier on a free loopback port, each calling the next over gRPC, as separate
processes do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from splitvlm.config import ServiceConfig
from splitvlm.executor import NextHop
from splitvlm.executor.local import local_hop
from splitvlm.plan.plan import TIERS, Tier
from splitvlm.service.launch import builder_for
from splitvlm.service.server import TierBundle, create_server, grpc_next_hop

Transport = Literal["local", "grpc"]


@dataclass
class Cluster:
    bundles: dict[Tier, TierBundle]
    ports: dict[Tier, int] = field(default_factory=dict)  # the tiers served (gRPC)
    transport: Transport = "local"

    @property
    def edge_target(self) -> str:
        return self.target(Tier.EDGE)

    def target(self, tier: Tier) -> str:
        if tier not in self.ports:
            raise ValueError(f"the {tier} tier is not served in a {self.transport} cluster; "
                             f"served: {sorted(self.ports)}")
        return f"127.0.0.1:{self.ports[tier]}"

    def tier(self, tier: Tier) -> TierBundle:
        return self.bundles[tier]


@asynccontextmanager
async def embedded_cluster(checkpoint_dir: Path | None = None, threads: int = 1,
                           transport: Transport = "local", **overrides: Any
                           ) -> AsyncIterator[Cluster]:
    """Build cloud, fog, edge (each joined to the next) and stop them on exit."""
    common = {"checkpoint_dir": str(checkpoint_dir or ""), "threads": threads,
              "insecure": True, **overrides}  # loopback, one process: no TLS by default
    cluster = Cluster({}, transport=transport)
    async with AsyncExitStack() as stack:
        hop: NextHop | None = None
        for tier in reversed(TIERS):
            next_target = cluster.target(TIERS[tier.order + 1]) if (
                transport == "grpc" and tier is not Tier.CLOUD) else ""
            config = ServiceConfig(tier, next_hop=next_target, **common)
            channel = None
            if transport == "grpc":
                hop, channel = grpc_next_hop(config)
            bundle = await builder_for(tier)(config, hop)
            if channel is not None:
                bundle.on_stop.append(channel.close)
            stack.push_async_callback(bundle.close)
            cluster.bundles[tier] = bundle
            if transport == "grpc" or tier is Tier.EDGE:
                running, cluster.ports[tier] = await create_server(config, bundle)
                stack.push_async_callback(running.server.stop, 1.0)
            hop = local_hop(bundle.executor)
        yield cluster
