"""The `Tier` service (Execute / Probe / Status) and the gRPC forwarder to the next tier."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import grpc

from splitvlm.errors import BadRequest
from splitvlm.executor import Event, Executor, Request
from splitvlm.service.convert import (
    event_from_pb,
    event_to_pb,
    payload_from_pb,
    payload_to_pb,
    plan_from_pb,
    plan_to_pb,
    status_to_pb,
)
from splitvlm.service.errors import error_from_rpc, status_for
from splitvlm.v1 import tier_pb2, tier_pb2_grpc, wire_pb2
from splitvlm.wire import Reassembler, split

MAX_PROBE_BYTES = 8 << 20


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
    plan = plan_from_pb(header.plan)
    if not header.question.strip():
        raise BadRequest("question is empty; ask something about the image")
    payload = payload_from_pb(wire_pb2.Payload.FromString(reassembler.result()))
    return Request(plan, header.question, payload, header.max_new_tokens or 24, header.image_key,
                   deadline)


class TierServicer(tier_pb2_grpc.TierServicer):
    def __init__(self, executor: Executor, max_payload_bytes: int) -> None:
        self.executor, self.max_payload_bytes = executor, max_payload_bytes

    async def Execute(  # noqa: N802 - gRPC method name
        self, request_iterator: AsyncIterator[tier_pb2.ExecuteChunk],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[tier_pb2.ExecuteEvent]:
        try:
            request = await read_request(request_iterator, self.max_payload_bytes,
                                         deadline_from(context))
            async for event in self.executor.execute(request):
                yield event_to_pb(event)
        except Exception as exc:  # noqa: BLE001 - mapped to a status, or re-raised
            code = status_for(exc)
            if code is None:
                raise
            await context.abort(code, str(exc))

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
        return status_to_pb(self.executor.status())


class GrpcForwarder:
    """Forwards a Request to the next tier's Execute and yields its events."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = tier_pb2_grpc.TierStub(channel)

    async def execute(self, request: Request) -> AsyncIterator[Event]:
        payload = payload_to_pb(request.payload).SerializeToString()
        header = tier_pb2.ExecuteHeader(
            plan=plan_to_pb(request.plan), question=request.question,
            max_new_tokens=request.max_new_tokens, payload_bytes=len(payload),
            image_key=request.image_key)
        chunks = [tier_pb2.ExecuteChunk(chunk=c) for c in split(payload)]
        chunks[0].header.CopyFrom(header)
        timeout = None if request.deadline is None else max(request.deadline - time.monotonic(),
                                                            0.001)
        try:
            async for msg in self.stub.Execute(iter(chunks), timeout=timeout):
                yield event_from_pb(msg)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from exc
