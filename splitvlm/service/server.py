"""Server lifecycle shared by the tiers: a bundle is built, then served, then stopped.

    hop, channel = grpc_next_hop(config)                # the next tier over gRPC (or None)
    bundle = await build(config, hop)                    # the tier's Executor (+ Edge servicer)
    running, port = await create_server(config, bundle)  # bound and started
    await running.stop(grace_s)                          # health NOT_SERVING, drain, close
    await serve(config, build)                           # all of it until SIGTERM: the CLI

With discover = true the next hop is a pool of peers found on mDNS (splitvlm.service.discovery,
splitvlm.service.failover); with advertise = true the tier announces itself once it listens.

Building a bundle (models, measurement, the next hop) is kept apart from serving it, so the
embedded cluster can join bundles in one process (splitvlm.executor.local) and serve only the
edge. Every server has the standard grpc.health.v1 service and server reflection. On SIGTERM
health turns NOT_SERVING, new calls are refused, in-flight calls get `grace_s` to finish.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from splitvlm.config import ServiceConfig
from splitvlm.errors import ConfigError
from splitvlm.executor import Executor, NextHop
from splitvlm.plan.plan import TIERS
from splitvlm.service.channels import channel_options, open_channel
from splitvlm.service.credentials import guard, server_credentials
from splitvlm.service.forwarding import grpc_hop
from splitvlm.service.telemetry import Telemetry
from splitvlm.service.tier_service import TierServicer
from splitvlm.v1 import edge_pb2, edge_pb2_grpc, tier_pb2, tier_pb2_grpc

if TYPE_CHECKING:
    from splitvlm.service.failover import Failover

DISCOVERY_SETTLE_S = 1.0  # with discover, the first peer is waited for this long at start-up
log = logging.getLogger("splitvlm.server")
Closer = Callable[[], Awaitable[None] | None]


@dataclass
class TierBundle:
    """What one tier serves: its Executor (joined to the next tier), the client-facing Edge
    servicer on the edge, what to close when it stops (an LM engine, a channel), and its
    telemetry (started by the edge's build, which its servicer needs; else when served)."""

    executor: Executor
    edge: edge_pb2_grpc.EdgeServiceServicer | None = None
    on_stop: list[Closer] = field(default_factory=list)
    telemetry: Telemetry | None = None
    on_peers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Run once discovery has found the first next-tier peers (the edge: refresh its plans)."""

    async def close(self) -> None:
        await close_all(self.on_stop)
        if self.telemetry is not None:
            self.telemetry.close()


async def close_all(closers: list[Closer]) -> None:
    for close in closers:
        done = close()
        if inspect.isawaitable(done):
            await done


Build = Callable[[ServiceConfig, NextHop | None], Awaitable[TierBundle]]


@dataclass
class Running:
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    bundle: TierBundle

    async def stop(self, grace_s: float) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)
        await self.bundle.close()


def grpc_next_hop(config: ServiceConfig) -> tuple[NextHop | None, grpc.aio.Channel | None]:
    """The next tier over gRPC, from `config.next_hop` (None on the last tier)."""
    if not config.next_hop:
        return None, None
    if config.tier.order + 1 >= len(TIERS):
        raise ConfigError(f"next_hop={config.next_hop!r}, but the {config.tier} tier is the "
                          "last one")
    channel = open_channel(config, config.next_hop)
    return grpc_hop(channel, TIERS[config.tier.order + 1]), channel


async def create_server(config: ServiceConfig, bundle: TierBundle
                        ) -> tuple[Running, int]:
    """A bound, started server for `bundle`: TierService (+ EdgeService), health, reflection.
    ConfigError when it cannot listen where `config` says."""
    server = grpc.aio.server(maximum_concurrent_rpcs=config.max_concurrent_rpcs,
                             options=[*channel_options(config), ("grpc.so_reuseport", 0)])
    if bundle.telemetry is None:
        bundle.telemetry = Telemetry.start(config, bundle.executor)
    telemetry = bundle.telemetry
    tier_pb2_grpc.add_TierServiceServicer_to_server(
        TierServicer(bundle.executor, config.max_payload_bytes, guard(config), telemetry), server)
    names = [tier_pb2.DESCRIPTOR.services_by_name["TierService"].full_name]
    if bundle.edge is not None:
        edge_pb2_grpc.add_EdgeServiceServicer_to_server(bundle.edge, server)
        names.append(edge_pb2.DESCRIPTOR.services_by_name["EdgeService"].full_name)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names.append(health_pb2.DESCRIPTOR.services_by_name["Health"].full_name)
    reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server)
    if config.insecure:
        log.warning("the %s tier runs with insecure = true: plaintext, and every caller may "
                    "call everything", config.tier)

    def listen(address: str) -> int:
        return (server.add_insecure_port(address) if config.insecure
                else server.add_secure_port(address, server_credentials(config)))

    try:
        port = listen(f"{config.host}:{config.port}")
        if config.unix_socket:
            listen(f"unix:{config.unix_socket}")
    except RuntimeError as exc:  # grpc: "Failed to bind to address ..."
        raise ConfigError(f"cannot listen on {config.host}:{config.port} (is another server "
                          f"using the port?): {exc}") from exc
    if port == 0:
        raise ConfigError(f"cannot listen on {config.host}:{config.port}")
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return Running(server, health_servicer, bundle), port


def run_service(config: ServiceConfig, build: Build) -> None:
    """serve() on the event loop that config.event_loop names."""
    with asyncio.Runner(loop_factory=loop_factory(config.event_loop)) as runner:
        runner.run(serve(config, build))


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop factory for "uvloop", "asyncio" or "auto" (None: asyncio's own)."""
    if name == "asyncio":
        return None
    try:
        import uvloop
    except ImportError as exc:
        if name == "auto":
            return None
        raise ConfigError("event_loop='uvloop' but uvloop is not installed: pip install "
                          "uvloop, or set event_loop = 'asyncio'") from exc
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def open_next_hop(config: ServiceConfig
                        ) -> tuple[NextHop | None, list[Closer], Failover | None]:
    """The next tier, what closes it, and (config.discover) the pool of peers that discovery
    fills once this tier is built and knows its visual model (next_hop, if set, is one more
    peer); otherwise next_hop, or none (the last tier)."""
    if not config.discover:
        hop, channel = grpc_next_hop(config)
        return hop, [] if channel is None else [channel.close], None
    from splitvlm.service.failover import Failover, failover_hop

    tier = TIERS[config.tier.order + 1]
    pool = Failover(tier, lambda target: open_channel(config, target, expect=tier))
    pool.start()
    if config.next_hop:
        pool.offer(f"next_hop {config.next_hop}", config.next_hop, 0)
    return failover_hop(pool), [pool.close], pool


async def discover_peers(config: ServiceConfig, pool: Failover, bundle: TierBundle
                         ) -> list[Closer]:
    """Browse for next-tier peers serving this tier's visual model (known once it is built:
    a Hugging Face model's is a hash of its weights), wait for the first, then let the tier
    react (`on_peers`). Returns what closes the browser."""
    from splitvlm.service.discovery import Browser

    browser = await Browser.start(config, pool, bundle.executor.compute.visual_version)
    try:
        await pool.settle(DISCOVERY_SETTLE_S)
        for react in bundle.on_peers:
            await react()
    except BaseException:
        await browser.close()
        raise
    return [browser.close]


async def serve(config: ServiceConfig, build: Build) -> None:
    """Build, serve (advertised on mDNS with config.advertise) until SIGTERM/SIGINT, then shut
    down gracefully: the advert withdrawn, then in-flight calls drained."""
    hop, closers, pool = await open_next_hop(config)
    try:
        bundle = await build(config, hop)
    except BaseException:
        await close_all(closers)
        raise
    bundle.on_stop.extend(closers)
    if pool is not None:
        try:
            bundle.on_stop[:0] = await discover_peers(config, pool, bundle)
        except BaseException:
            await bundle.close()
            raise
    try:
        running, port = await create_server(config, bundle)
    except BaseException:
        await bundle.close()
        raise
    print(f"splitvlm {config.tier} serving on {config.host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    advertiser = None
    try:
        if config.advertise:
            from splitvlm.service.discovery import advertise

            advertiser = await advertise(config, port, bundle.executor)
        await stop.wait()
        print(f"splitvlm {config.tier}: shutting down (grace {config.grace_s} s)",
              file=sys.stderr, flush=True)
    finally:
        if advertiser is not None:
            await advertiser.close()
        await running.stop(config.grace_s)
