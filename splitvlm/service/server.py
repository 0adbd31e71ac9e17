"""Server lifecycle shared by the tiers: create, start, serve until SIGTERM, stop gracefully.

    server, port = await create_server(config, executor, edge_servicer)   # bound, not started
    await serve(config, build)                                             # the CLI's loop

Every server has the standard grpc.health.v1 service and server reflection. On SIGTERM health
turns NOT_SERVING, new calls are refused, in-flight calls get `grace_s` to finish.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor
from splitvlm.executor.measure import measure_tier
from splitvlm.service.tier_service import GrpcForwarder, TierServicer
from splitvlm.v1 import edge_pb2, edge_pb2_grpc, tier_pb2, tier_pb2_grpc

MESSAGE_HEADROOM = 1 << 20  # protobuf framing on top of the payload cap


@dataclass
class Running:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    channels: list[grpc.aio.Channel]
    on_stop: list[Callable[[], None]] = field(default_factory=list)  # e.g. stop the LM engine

    async def stop(self, grace_s: float) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)
        for channel in self.channels:
            await channel.close()
        for callback in self.on_stop:
            callback()


def next_hop_channel(config: ServiceConfig) -> grpc.aio.Channel | None:
    if not config.next_hop:
        return None
    return grpc.aio.insecure_channel(config.next_hop, options=channel_options(config))


def forwarder_for(channel: grpc.aio.Channel | None) -> GrpcForwarder | None:
    return None if channel is None else GrpcForwarder(channel)


def channel_options(config: ServiceConfig) -> list[tuple[str, int]]:
    limit = config.max_payload_bytes + MESSAGE_HEADROOM
    return [("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)]


async def create_server(
    config: ServiceConfig, executor: Executor,
    edge_servicer: edge_pb2_grpc.EdgeServiceServicer | None = None,
    channels: list[grpc.aio.Channel] | None = None,
) -> Running:
    """A bound, started server with Tier (+ Edge), health and reflection. Measures the tier's
    compute first (a short warm run) unless the executor already has a profile."""
    if not executor.profile.stages:
        executor.profile = await measure_tier(executor.tier, executor.compute)
    server = grpc.aio.server(maximum_concurrent_rpcs=config.max_concurrent_rpcs,
                             options=channel_options(config))
    next_hop = executor.forwarder if isinstance(executor.forwarder, GrpcForwarder) else None
    tier_pb2_grpc.add_TierServiceServicer_to_server(
        TierServicer(executor, config.max_payload_bytes, next_hop), server)
    names = [tier_pb2.DESCRIPTOR.services_by_name["TierService"].full_name]
    if edge_servicer is not None:
        edge_pb2_grpc.add_EdgeServiceServicer_to_server(edge_servicer, server)
        names.append(edge_pb2.DESCRIPTOR.services_by_name["EdgeService"].full_name)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names.append(health_pb2.DESCRIPTOR.services_by_name["Health"].full_name)
    reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server)
    port = server.add_insecure_port(f"{config.host}:{config.port}")
    if port == 0:
        raise OSError(f"cannot listen on {config.host}:{config.port}")
    if config.unix_socket:
        server.add_insecure_port(f"unix:{config.unix_socket}")
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return Running(server, port, health_servicer, channels or [])


Build = Callable[[ServiceConfig], Awaitable[Running]]


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
        raise ValueError("event_loop='uvloop' but uvloop is not installed: pip install "
                         "uvloop, or set event_loop = 'asyncio'") from exc
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def serve(config: ServiceConfig, build: Build) -> None:
    """Run until SIGTERM/SIGINT, then shut down gracefully."""
    running = await build(config)
    print(f"splitvlm {config.tier} serving on {config.host}:{running.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print(f"splitvlm {config.tier}: shutting down (grace {config.grace_s} s)", file=sys.stderr,
          flush=True)
    await running.stop(config.grace_s)
