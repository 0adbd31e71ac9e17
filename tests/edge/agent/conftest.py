"""The agent's tests run it as a process (`splitvlm agent`) beside real tiers."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from splitvlm.processes import ProcessCluster, start_cluster

from .harness import Agent


@pytest.fixture(scope="module")
def cluster(checkpoints: Path) -> Iterator[ProcessCluster]:
    running = start_cluster()
    yield running
    running.stop()



@pytest.fixture
def agents(cluster: ProcessCluster) -> Iterator[Callable[[Path], Agent]]:
    started: list[Agent] = []

    def start(config: Path, edge: str = cluster.edge) -> Agent:
        started.append(Agent(config, edge))
        return started[-1]

    yield start
    for agent in started:
        if agent.process.proc.poll() is None:
            agent.stop(signal.SIGKILL)
