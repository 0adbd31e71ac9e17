"""The `Tier` service (Execute / Probe / Status) and the gRPC forwarder to the next tier."""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
from google.protobuf.message import DecodeError

from splitvlm.errors import BadRequest
from splitvlm.executor import Event, Executor, Request
from splitvlm.executor.status import LinkEstimate, TierStatus
from splitvlm.service.convert import (
    event_from_pb,
    event_to_pb,
    header_to_pb,
    payload_from_pb,
    payload_to_pb,
    request_from_pb,
    status_from_pb,
    status_to_pb,
)
from splitvlm.service.errors import abort, error_from_rpc
from splitvlm.stages import MAX_ANSWER_TOKENS
from splitvlm.v1 import tier_pb2, tier_pb2_grpc, wire_pb2
from splitvlm.wire import Reassembler, split

MAX_PROBE_BYTES = 8 << 20
STATUS_MAX_AGE_S = 1.0  # how stale a relayed downstream status may be
PROBE_MAX_AGE_S = 10.0  # active link probes at most this often (passive measurement between)
PROBE_SMALL_BYTES = 16 << 10
PROBE_LARGE_BYTES = 256 << 10
PROBE_LARGE_MAX_S = 0.15  # the large probe only where it occupies the link at most this long
PROBE_TIMEOUT_S = 5.0


log = logging.getLogger("splitvlm.tier")


def request_id_of(context: grpc.aio.ServicerContext) -> str:
    """The caller's `x-request-id` metadata, else a new id."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and isinstance(value, str) and value:
            return value[:64]
    return uuid.uuid4().hex[:16]


def deadline_from(context: grpc.aio.ServicerContext) -> float | None:
    remaining = context.time_remaining()
    return None if remaining is None else time.monotonic() + remaining


async def read_request(
    chunks: AsyncIterator[tier_pb2.ExecuteChunk], max_payload_bytes: int, deadline: float | None
) -> Request:
    """Reassemble a chunked Execute call into a Request (BadRequest/WireError on bad input)."""
    header: tier_pb2.ExecuteHeader | None = None
    reassembler = Reassembler(max_payload_bytes)
    index = 0
    async for msg in chunks:
        if header is None:
            if not msg.HasField("header"):
                raise BadRequest("the first Execute message must carry the header")
            header = msg.header
        reassembler.feed(index, msg.chunk, header.payload_bytes)
        index += 1
    if header is None:
        raise BadRequest("Execute call carried no messages")
    if not header.question.strip():
        raise BadRequest("question is empty; ask something about the image")
    body = reassembler.result()
    try:
        message = wire_pb2.Payload.FromString(body)
    except DecodeError as exc:
        raise BadRequest(f"cannot parse the payload ({len(body)} bytes) as a "
                         f"splitvlm.v1.Payload: {exc}") from exc
    return request_from_pb(header, payload_from_pb(message), deadline, MAX_ANSWER_TOKENS)


class TierServicer(tier_pb2_grpc.TierServiceServicer):
    def __init__(self, executor: Executor, max_payload_bytes: int,
                 next_hop: GrpcForwarder | None = None) -> None:
        self.executor, self.max_payload_bytes = executor, max_payload_bytes
        self.next_hop = next_hop

    async def Execute(  # noqa: N802 - gRPC method name
        self, request_iterator: AsyncIterator[tier_pb2.ExecuteChunk],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[tier_pb2.ExecuteEvent]:
        request_id = request_id_of(context)
        try:
            request = await read_request(request_iterator, self.max_payload_bytes,
                                         deadline_from(context))
            if request.request_id:
                request_id = request.request_id
            else:
                request = replace(request, request_id=request_id)
            async for event in self.executor.execute(request):
                yield event_to_pb(event)
        except Exception as exc:  # noqa: BLE001 - every failure gets its status (bugs INTERNAL)
            await abort(context, exc, request_id, log)

    async def Probe(  # noqa: N802
        self, request: tier_pb2.ProbeRequest, context: grpc.aio.ServicerContext
    ) -> tier_pb2.ProbeReply:
        if not 0 <= request.reply_bytes <= MAX_PROBE_BYTES:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"reply_bytes={request.reply_bytes}; allowed 0..{MAX_PROBE_BYTES}")
        return tier_pb2.ProbeReply(payload=bytes(request.reply_bytes))

    async def Status(  # noqa: N802
        self, request: tier_pb2.StatusRequest, context: grpc.aio.ServicerContext
    ) -> tier_pb2.TierStatus:
        status = replace(self.executor.status(), profile=self.executor.profile)
        if self.next_hop is not None:
            downstream = await self.next_hop.status()
            link = await self.next_hop.link()
            if downstream is not None and downstream.profile is not None:
                status = replace(status, profile=self.executor.profile.merged(
                    downstream.profile))
            status = replace(status, downstream=downstream, next_link=link)
        return status_to_pb(status)


class GrpcForwarder:
    """The next tier: forwards Requests to its Execute, and asks its status and link speed."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = tier_pb2_grpc.TierServiceStub(channel)
        self._status: tuple[float, TierStatus | None] = (-math.inf, None)
        self._link: tuple[float, LinkEstimate | None] = (-math.inf, None)

    async def status(self, max_age_s: float = STATUS_MAX_AGE_S) -> TierStatus | None:
        """The next tier's status (cached); None while it cannot be reached."""
        when, last = self._status
        if time.monotonic() - when > max_age_s:
            try:
                last = status_from_pb(await self.stub.Status(tier_pb2.StatusRequest(),
                                                             timeout=PROBE_TIMEOUT_S))
            except (grpc.RpcError, BadRequest):
                last = None
            self._status = (time.monotonic(), last)
        return last

    async def link(self, max_age_s: float = PROBE_MAX_AGE_S) -> LinkEstimate | None:
        """Bandwidth and RTT to the next tier from an echo probe (cached)."""
        when, last = self._link
        if time.monotonic() - when > max_age_s:
            last = await self.probe()
            self._link = (time.monotonic(), last)
        return last

    async def probe(self) -> LinkEstimate | None:
        """A tiny echo for the RTT, a small upload, then one sized to occupy the link for up to
        PROBE_LARGE_MAX_S (at the rate the small one proves at least), for the bandwidth."""
        try:
            rtt = await self._echo(0)
            size = PROBE_SMALL_BYTES
            seconds = await self._echo(size)
            # On a fast or far link the small upload's serialisation drowns in the RTT's jitter
            # (16 KB on a 20 Mbit/s link with 10 ms RTT read as 364 Mbit/s). Its whole time is a
            # lower bound on the rate, which sizes an upload long enough to measure: at most
            # PROBE_LARGE_MAX_S of link time (an RTT echo that queued behind a request would
            # make `seconds - rtt` tiny, so the whole time, not that), never seconds on a slow
            # link (4.5 s at 0.5 Mbit/s, delaying every request behind it).
            large = min(PROBE_LARGE_BYTES, int(size / seconds * PROBE_LARGE_MAX_S))
            if large > size:
                size, seconds = large, await self._echo(large)
        except grpc.RpcError:
            return None
        return LinkEstimate(8.0 * size / max(seconds - rtt, 1e-6), rtt)

    async def _echo(self, payload_bytes: int) -> float:
        t0 = time.perf_counter()
        await self.stub.Probe(tier_pb2.ProbeRequest(payload=bytes(payload_bytes)),
                              timeout=PROBE_TIMEOUT_S)
        return time.perf_counter() - t0

    @staticmethod
    def chunks(request: Request) -> list[tier_pb2.ExecuteChunk]:
        """The Execute call's messages; the plan goes without its predictions (not needed
        downstream, and they would dominate a cache-hit request)."""
        payload = payload_to_pb(request.payload).SerializeToString()
        header = header_to_pb(request, len(payload))
        chunks = [tier_pb2.ExecuteChunk(chunk=c) for c in split(payload)]
        chunks[0].header.CopyFrom(header)
        return chunks

    def wire_bytes(self, request: Request) -> int:
        return sum(c.ByteSize() for c in self.chunks(request))

    async def execute(self, request: Request) -> AsyncIterator[Event]:
        chunks = self.chunks(request)
        timeout = None if request.deadline is None else max(request.deadline - time.monotonic(),
                                                            0.001)
        try:
            async for msg in self.stub.Execute(iter(chunks), timeout=timeout):
                yield event_from_pb(msg)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from exc
