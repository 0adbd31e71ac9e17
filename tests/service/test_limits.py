"""Bounded concurrency and deadlines: over `max_concurrent_rpcs` is RESOURCE_EXHAUSTED, a spent
deadline is DEADLINE_EXCEEDED, the server keeps serving after both, and the deadline travels on
to the next tier.

The edge runs in-process with a fake next tier that records each call's deadline and can hold
a call open, so "a first call is still running" is deterministic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from splitvlm.config import ServiceConfig
from splitvlm.data.camera import encode_image
from splitvlm.data.sets import held_out_set as questions
from splitvlm.executor import Payload, Request, ResultEvent, TokenEvent
from splitvlm.executor.builders import visual_meta
from splitvlm.plan.named import named_plan
from splitvlm.plan.plan import Tier
from splitvlm.sdk import AsyncClient, DeadlineExceeded, Overloaded
from splitvlm.service.forwarding import GrpcForwarder
from splitvlm.service.launch import builder_for
from splitvlm.service.server import create_server, grpc_next_hop
from splitvlm.v1 import tier_pb2, tier_pb2_grpc, wire_pb2
from splitvlm.wire.codecs import Encoding

pytestmark = pytest.mark.asyncio(loop_scope="module")

PLAN = "edge-vision+fog-lm"  # the edge's vision, then the (fake) fog's LM
SLACK_S = 0.1  # grpc rounds a timeout up when it encodes it for the next hop


class FakeFog(tier_pb2_grpc.TierServiceServicer):
    """Answers every Execute with one token; records `time_remaining()`; `gate` can hold calls."""

    def __init__(self) -> None:
        self.remaining: list[float | None] = []
        self.entered = asyncio.Event()  # set when a call arrives
        self.gate = asyncio.Event()
        self.gate.set()

    async def Execute(  # noqa: N802 - gRPC method name
        self, request_iterator: AsyncIterator[tier_pb2.ExecuteChunk],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[tier_pb2.ExecuteEvent]:
        self.remaining.append(context.time_remaining())
        await context.send_initial_metadata(())  # as a live tier does, at once
        async for _ in request_iterator:
            pass
        self.entered.set()
        await self.gate.wait()
        yield tier_pb2.ExecuteEvent(token=tier_pb2.Token(id=7, text="red"))
        yield tier_pb2.ExecuteEvent(result=tier_pb2.ExecuteResult(busy_s=0.001))

    async def Status(  # noqa: N802 - a live tier's status keeps the edge's plans on it
        self, request: tier_pb2.StatusRequest, context: grpc.aio.ServicerContext
    ) -> tier_pb2.TierStatus:
        return tier_pb2.TierStatus(tier=wire_pb2.TIER_FOG)

    async def Probe(  # noqa: N802
        self, request: tier_pb2.ProbeRequest, context: grpc.aio.ServicerContext
    ) -> tier_pb2.ProbeReply:
        return tier_pb2.ProbeReply(payload=bytes(request.reply_bytes))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fog() -> AsyncIterator[tuple[FakeFog, int]]:
    server, servicer = grpc.aio.server(), FakeFog()
    tier_pb2_grpc.add_TierServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield servicer, port
    await server.stop(0)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def edge(checkpoints: Path, fog: tuple[FakeFog, int]) -> AsyncIterator[str]:
    """An edge that serves one Ask at a time."""
    config = ServiceConfig(Tier.EDGE, checkpoint_dir=str(checkpoints), threads=1, insecure=True,
                           next_hop=f"127.0.0.1:{fog[1]}", max_inflight=1)
    hop, channel = grpc_next_hop(config)
    running, port = await create_server(config, await builder_for(Tier.EDGE)(config, hop))
    yield f"127.0.0.1:{port}"
    await running.stop(0)
    if channel is not None:
        await channel.close()


@pytest.fixture(scope="module")
def image() -> tuple[bytes, str]:
    sample = questions(per_type=1)[0]
    return encode_image(sample.image(), "PNG"), sample.qa.question


async def ask_when_free(client: AsyncClient, image: tuple[bytes, str],
                        deadline_s: float = 10.0) -> str:
    """A good call, retried while the slot of a call that just ended is being released."""
    give_up = time.monotonic() + 5.0
    while True:
        try:
            return (await client.ask(*image, plan=PLAN, deadline_s=deadline_s)).text
        except Overloaded:
            if time.monotonic() > give_up:
                raise
            await asyncio.sleep(0.02)


async def test_call_over_the_limit_is_resource_exhausted(
    edge: str, fog: tuple[FakeFog, int], image: tuple[bytes, str]
) -> None:
    fake = fog[0]
    fake.gate.clear()
    fake.entered.clear()
    async with AsyncClient(edge) as client:
        first = asyncio.create_task(client.ask(*image, plan=PLAN, deadline_s=10))
        await asyncio.wait_for(fake.entered.wait(), 10)  # the first call holds the only slot
        with pytest.raises(Overloaded) as caught:
            await client.ask(*image, plan=PLAN, deadline_s=10)
        cause = caught.value.__cause__
        assert isinstance(cause, grpc.RpcError)
        assert cause.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "at the limit of 1 requests in flight" in str(caught.value)
        retry = caught.value.retry_after_s  # grpc-retry-pushback-ms, read back by the SDK
        assert retry is not None and 0 < retry < 10
        fake.gate.set()
        assert (await first).text == "red"
        assert await ask_when_free(client, image) == "red"


async def test_tiny_deadline_is_deadline_exceeded_and_edge_keeps_serving(
    edge: str, fog: tuple[FakeFog, int], image: tuple[bytes, str]
) -> None:
    fake = fog[0]
    fake.gate.clear()  # a call that reaches the fog is not answered: the deadline ends it
    try:
        async with AsyncClient(edge) as client:
            started = time.monotonic()
            with pytest.raises(DeadlineExceeded) as caught:
                await client.ask(*image, plan=PLAN, deadline_s=0.05)
            assert time.monotonic() - started < 5
            cause = caught.value.__cause__
            assert isinstance(cause, grpc.RpcError)
            assert cause.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            fake.gate.set()
            assert await ask_when_free(client, image) == "red"
    finally:
        fake.gate.set()


async def test_edge_passes_the_deadline_to_the_next_tier(
    edge: str, fog: tuple[FakeFog, int], image: tuple[bytes, str]
) -> None:
    fake = fog[0]
    fake.remaining.clear()
    async with AsyncClient(edge) as client:
        assert await ask_when_free(client, image, deadline_s=8.0) == "red"
    seen = fake.remaining[-1]
    assert seen is not None and 0 < seen < 8.0 + SLACK_S


async def test_forwarder_passes_the_deadline_on(
    checkpoints: Path, fog: tuple[FakeFog, int]
) -> None:
    fake, port = fog
    fake.remaining.clear()
    graph = visual_meta(checkpoints)[0]
    plan = named_plan(PLAN, graph)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        forwarder = GrpcForwarder(channel, Tier.FOG)
        for deadline in (time.monotonic() + 7.0, None):
            request = Request(plan, "describe the image",
                              Payload(0, Encoding.IMAGE, image=b"\x89PNG"), deadline=deadline)
            events = [event async for event in forwarder.execute(request).events]
            assert isinstance(events[0], TokenEvent) and isinstance(events[-1], ResultEvent)
    with_deadline, without = fake.remaining
    assert with_deadline is not None and 6.0 < with_deadline < 7.0 + SLACK_S
    assert without is None
