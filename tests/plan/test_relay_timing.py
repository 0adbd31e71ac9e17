"""Link times as the executors report them: each hop's time excludes everything downstream,
the next hop's network time included, so the edge can learn each link on its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from splitvlm.executor import Executor, Payload, Request, ResultEvent
from splitvlm.executor.compute import TierCompute
from splitvlm.executor.messages import Event
from splitvlm.executor.scripted import ScriptedHop
from splitvlm.plan.plan import Link, Plan, Step, Tier
from splitvlm.wire.codecs import Encoding

from .worlds import GRAPH

EDGE_FOG_S, FOG_CLOUD_S, CLOUD_S = 0.03, 0.06, 0.02


def delayed(seconds: float, receive: Executor | None) -> ScriptedHop:
    """A link that takes `seconds` before handing the request to `receive` (None: a cloud
    that works CLOUD_S, then answers)."""

    async def handler(request: Request) -> AsyncIterator[Event]:
        await asyncio.sleep(seconds)
        if receive is not None:
            async for event in receive.execute(request):
                yield event
            return
        await asyncio.sleep(CLOUD_S)  # the cloud: its own work, then the answer
        yield ResultEvent(busy_s=CLOUD_S)

    return ScriptedHop(handler)


async def test_a_relayed_plan_reports_each_link_apart() -> None:
    compute = TierCompute(GRAPH, "v")
    fog = Executor(Tier.FOG, compute, next_hop=delayed(FOG_CLOUD_S, None).next_hop)
    edge = Executor(Tier.EDGE, compute, next_hop=delayed(EDGE_FOG_S, fog).next_hop)
    plan = Plan((Step(Tier.EDGE, 0, 0), Step(Tier.CLOUD, 0, GRAPH.n_stages)), (Encoding.IMAGE,))
    request = Request(plan, "describe the image", Payload(0, Encoding.IMAGE, image=b"jpeg"))
    events = [event async for event in edge.execute(request)]
    result = events[-1]
    assert isinstance(result, ResultEvent)
    links = {link.link: link.seconds for link in result.links}
    assert links[Link.EDGE_FOG] == pytest.approx(EDGE_FOG_S, abs=0.015)
    assert links[Link.FOG_CLOUD] == pytest.approx(FOG_CLOUD_S, abs=0.015)
    assert result.busy_s >= EDGE_FOG_S + FOG_CLOUD_S + CLOUD_S  # the whole call, seen by edge
