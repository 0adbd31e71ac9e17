"""Graceful shutdown: SIGTERM turns health NOT_SERVING, lets the open call finish within the
grace period (or end with a clean status, never hang) and exits with code 0."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from splitvlm.config import ServiceConfig
from splitvlm.data.camera import encode_image
from splitvlm.data.sets import held_out_set as questions
from splitvlm.errors import SplitVLMError
from splitvlm.executor import Executor
from splitvlm.executor.builders import visual_meta
from splitvlm.executor.compute import TierCompute
from splitvlm.plan.plan import Tier
from splitvlm.processes import TierProcess, start_tier
from splitvlm.sdk import AnswerEvent, Client, Event, PlanEvent, TokenEvent
from splitvlm.service.server import TierBundle, create_server
from splitvlm.stages import MAX_ANSWER_TOKENS
from splitvlm.v1 import tier_pb2, tier_pb2_grpc, wire_pb2

GRACE_S = 3.0
CLEAN_ENDS = (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)


class HealthWatch(threading.Thread):
    """Collects the statuses a grpc.health.v1 Watch stream reports until the stream ends."""

    def __init__(self, target: str) -> None:
        super().__init__(daemon=True)
        self.channel = grpc.insecure_channel(target)
        self.statuses: list[int] = []  # HealthCheckResponse.ServingStatus
        self.first = threading.Event()
        self.start()

    def run(self) -> None:
        stream = health_pb2_grpc.HealthStub(self.channel).Watch(
            health_pb2.HealthCheckRequest(service=""), timeout=30)
        try:
            for reply in stream:
                self.statuses.append(reply.status)
                self.first.set()
        except grpc.RpcError:  # the server cancels open watches when its grace ends
            pass
        finally:
            self.first.set()
            self.channel.close()


class HeldFog(tier_pb2_grpc.TierServiceServicer):
    """A next tier that takes every Execute call and never answers it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.server = grpc.server(ThreadPoolExecutor(max_workers=2))
        tier_pb2_grpc.add_TierServiceServicer_to_server(self, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def Execute(  # noqa: N802 - gRPC method name
        self, request_iterator: Iterator[tier_pb2.ExecuteChunk], context: grpc.ServicerContext
    ) -> Iterator[tier_pb2.ExecuteEvent]:
        context.send_initial_metadata(())  # as a live tier does, at once
        for _ in request_iterator:
            pass
        self.entered.set()
        while context.is_active():
            time.sleep(0.05)
        yield from ()

    def Status(  # noqa: N802 - a live tier's status keeps the edge's plans on it
        self, request: tier_pb2.StatusRequest, context: grpc.ServicerContext
    ) -> tier_pb2.TierStatus:
        return tier_pb2.TierStatus(tier=wire_pb2.TIER_FOG)

    def Probe(  # noqa: N802
        self, request: tier_pb2.ProbeRequest, context: grpc.ServicerContext
    ) -> tier_pb2.ProbeReply:
        return tier_pb2.ProbeReply(payload=bytes(request.reply_bytes))


def stopped(tier: TierProcess) -> None:
    if tier.proc.poll() is None:
        tier.proc.kill()
    tier.proc.wait()
    if tier.proc.stdout is not None:
        tier.proc.stdout.close()


@pytest.fixture
def edge(checkpoints: Path) -> Iterator[TierProcess]:
    """An edge on its own (edge-only plans need no next hop)."""
    tier = start_tier("edge", env={"SPLITVLM_GRACE_S": str(GRACE_S)})
    yield tier
    stopped(tier)


@pytest.fixture
def held() -> Iterator[HeldFog]:
    fog = HeldFog()
    yield fog
    fog.server.stop(0).wait()


def test_sigterm_mid_stream_ends_the_call_cleanly(edge: TierProcess) -> None:
    caption = next(s for s in questions(per_type=1) if s.qa.qtype == "caption")
    watch = HealthWatch(edge.target)
    assert watch.first.wait(10) and watch.statuses == [health_pb2.HealthCheckResponse.SERVING]
    events: list[Event] = []
    error: SplitVLMError | None = None
    with Client(edge.target) as client:
        stream = client.stream(encode_image(caption.image(), "PNG"), caption.qa.question,
                               plan="edge-only", max_new_tokens=MAX_ANSWER_TOKENS,
                               deadline_s=30)
        events.append(next(stream))  # the plan: the answer is being generated now
        edge.proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        try:
            events.extend(stream)
        except SplitVLMError as exc:
            error = exc
        ended_s = time.monotonic() - signalled
    assert isinstance(events[0], PlanEvent)
    if error is None:  # finished within the grace period
        last = events[-1]
        assert isinstance(last, AnswerEvent)
        tokens = [e.text for e in events if isinstance(e, TokenEvent)]
        assert " ".join(tokens) == last.answer.text
    else:  # or cut off at its end with a clean status
        assert isinstance(error.__cause__, grpc.RpcError)
        assert error.__cause__.code() in CLEAN_ENDS, error
    assert ended_s < GRACE_S + 2
    assert edge.proc.wait(timeout=GRACE_S + 5) == 0
    watch.join(5)
    assert not watch.is_alive()
    assert watch.statuses[-1] == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_stop_turns_health_not_serving(checkpoints: Path) -> None:
    graph, version = visual_meta(checkpoints)
    config = ServiceConfig(Tier.CLOUD, checkpoint_dir=str(checkpoints), insecure=True)
    bundle = TierBundle(Executor(Tier.CLOUD, TierCompute(graph, version)))
    running, port = await create_server(config, bundle)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
        reply = await health.Check(health_pb2.HealthCheckRequest(service="splitvlm.v1.TierService"))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        await running.stop(0.2)
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
        with pytest.raises(grpc.aio.AioRpcError) as caught:  # stopped: new calls are refused
            await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


def test_sigterm_cuts_off_a_call_that_outlives_the_grace(checkpoints: Path,
                                                         held: HeldFog) -> None:
    grace_s = 1.0
    edge = start_tier("edge", f"127.0.0.1:{held.port}", env={"SPLITVLM_GRACE_S": str(grace_s)})
    try:
        with Client(edge.target) as client:
            stream = client.stream(encode_image(questions(per_type=1)[0].image(), "PNG"),
                                   "describe the image", plan="edge-vision+fog-lm",
                                   deadline_s=30)
            assert isinstance(next(stream), PlanEvent)
            assert held.entered.wait(10)  # the call waits on the fog
            edge.proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            with pytest.raises(SplitVLMError) as caught:
                list(stream)
            ended_s = time.monotonic() - signalled
        assert isinstance(caught.value.__cause__, grpc.RpcError)
        assert caught.value.__cause__.code() in CLEAN_ENDS, caught.value
        assert grace_s * 0.8 < ended_s < grace_s + 2
        assert edge.proc.wait(timeout=grace_s + 5) == 0
    finally:
        stopped(edge)
