"""`splitvlm agent`: the daemon's process. Serves AgentService, runs the pipeline, reloads its
config on SIGHUP and drains on SIGTERM/SIGINT.

    splitvlm agent --config deploy/agent.toml
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from edge.agent.config import AgentConfig, load_agent_config
from edge.agent.daemon import Agent, state_path
from edge.agent.journal import Journal
from edge.agent.service import MAX_FRAME_BYTES, AgentServicer
from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.errors import ConfigError
from splitvlm.executor.builders import visual_meta
from splitvlm.sdk import AsyncClient, Credentials
from splitvlm.stages import StageGraph
from splitvlm.trust.files import read_site_file
from splitvlm.v1 import agent_pb2_grpc

log = logging.getLogger("splitvlm.agent")


def credentials(config: AgentConfig) -> Credentials | None:
    if config.insecure:
        return None
    token = (read_site_file(config.token_file, "token").decode().strip()
             if config.token_file else "")
    return Credentials(config.tls_ca, token, config.tls_cert, config.tls_key)


def agent_graph(config: AgentConfig) -> StageGraph:
    """The stage graph of the model the edge serves: frames are sized by it, and an answer's
    timings read against it."""
    if not config.model_dir:
        return visual_meta(CHECKPOINT_DIR)[0]
    from splitvlm.model.hf.shapes import shapes_of_directory

    return shapes_of_directory(Path(config.model_dir))[0]


def run_agent(path: Path, **overrides: Any) -> None:
    config = load_agent_config(path, **overrides)
    asyncio.run(serve_agent(config, path))


async def serve_agent(config: AgentConfig, path: Path | None) -> None:
    """Run until SIGTERM/SIGINT; SIGHUP re-reads `path`."""
    graph = agent_graph(config)
    journal = Journal(state_path(config), config.max_pending)
    client = AsyncClient(config.edge, credentials(config))
    agent = Agent(config, client, journal, graph)
    server = grpc.aio.server(options=[("grpc.max_receive_message_length",
                                       MAX_FRAME_BYTES + (1 << 20))])
    agent_pb2_grpc.add_AgentServiceServicer_to_server(AgentServicer(agent), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    try:
        port = server.add_insecure_port(f"{config.host}:{config.port}")  # local apps only
    except RuntimeError as exc:
        raise ConfigError(f"cannot listen on {config.host}:{config.port}: {exc}") from exc
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await agent.start()
    print(f"splitvlm agent serving on {config.host}:{port}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if path is not None:
        loop.add_signal_handler(signal.SIGHUP, lambda: _reload(agent, path))
    await stop.wait()
    print(f"splitvlm agent: draining (grace {agent.config.grace_s} s)", file=sys.stderr,
          flush=True)
    await health_servicer.enter_graceful_shutdown()
    await agent.drain(agent.config.grace_s)
    await server.stop(1.0)
    await client.close()
    journal.close()


def _reload(agent: Agent, path: Path) -> None:
    try:
        config = load_agent_config(path)
    except ConfigError as exc:
        log.error("SIGHUP: the config was not reloaded, the old one stays: %s", exc)
        return
    agent.reload(config)
    log.info("SIGHUP: reloaded %s (%d sources)", path, len(config.sources))
