"""create_server: a bundle served on its port; a port another server holds is a ConfigError
(no SO_REUSEPORT sharing of traffic between two servers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from splitvlm.config import ServiceConfig
from splitvlm.errors import ConfigError
from splitvlm.executor import Executor
from splitvlm.executor.builders import visual_meta
from splitvlm.executor.compute import TierCompute
from splitvlm.plan.plan import Tier
from splitvlm.service.server import TierBundle, create_server


async def test_a_busy_port_is_refused(checkpoints: Path) -> None:
    graph, version = visual_meta(checkpoints)
    bundle = TierBundle(Executor(Tier.CLOUD, TierCompute(graph, version)))
    first, port = await create_server(ServiceConfig(Tier.CLOUD, insecure=True), bundle)
    try:
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            await create_server(ServiceConfig(Tier.CLOUD, port=port, insecure=True), bundle)
    finally:
        await first.stop(0)
