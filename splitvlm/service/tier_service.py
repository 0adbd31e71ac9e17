"""The `TierService` (Execute / Probe / Status): proto in, the tier's Executor, proto out."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
from google.protobuf.message import DecodeError

from splitvlm.errors import BadRequest, SplitVLMError
from splitvlm.executor import Executor, Request, ResultEvent
from splitvlm.limits import MAX_PROBE_BYTES
from splitvlm.service.convert import (
    event_to_pb,
    payload_from_pb,
    request_from_pb,
    status_to_pb,
)
from splitvlm.service.errors import abort
from splitvlm.service.forwarding import TIER_METADATA
from splitvlm.service.requestlog import RequestLog, served
from splitvlm.service.telemetry import Telemetry
from splitvlm.stages import MAX_ANSWER_TOKENS
from splitvlm.trust.identity import Guard
from splitvlm.v1 import tier_pb2, tier_pb2_grpc, wire_pb2
from splitvlm.wire import Reassembler

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
    chunks: AsyncIterator[tier_pb2.ExecuteChunk], max_payload_bytes: int, deadline: float | None,
    max_answer_tokens: int = MAX_ANSWER_TOKENS,
) -> Request:
    """Reassemble a chunked Execute call into a Request (BadRequest/WireError on bad input);
    `max_answer_tokens`: this tier's limit (and the default of a header that leaves it 0)."""
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
    return request_from_pb(header, payload_from_pb(message), deadline, max_answer_tokens)


class TierServicer(tier_pb2_grpc.TierServiceServicer):
    def __init__(self, executor: Executor, max_payload_bytes: int, guard: Guard,
                 telemetry: Telemetry | None = None) -> None:
        self.executor, self.max_payload_bytes, self.guard = executor, max_payload_bytes, guard
        self.telemetry = telemetry or Telemetry.off(executor.tier, executor)

    async def Execute(  # noqa: N802 - gRPC method name
        self, request_iterator: AsyncIterator[tier_pb2.ExecuteChunk],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[tier_pb2.ExecuteEvent]:
        trace = RequestLog(request_id_of(context), self.executor.tier.value)
        async with served(context, trace, log, self.telemetry, "Execute"):
            self.guard.check_execute(context)
            # at once: the caller's connect budget waits for this
            await context.send_initial_metadata(((TIER_METADATA, self.executor.tier.value),))
            request = await read_request(request_iterator, self.max_payload_bytes,
                                         deadline_from(context),
                                         self.executor.compute.max_answer_tokens)
            if request.request_id:
                trace.request_id = request.request_id
            request = replace(request, request_id=trace.request_id, trace=trace.onward)
            step = request.plan.step_for(self.executor.tier)
            trace.note(plan=request.plan.name, stages="relay" if step is None else
                       self.executor.graph.describe(step.start, step.stop))
            async for event in self.executor.execute(request):
                if isinstance(event, ResultEvent):
                    self.telemetry.metrics.result(event)
                yield event_to_pb(event)
            trace.outcome = "OK"

    async def Probe(  # noqa: N802
        self, request: tier_pb2.ProbeRequest, context: grpc.aio.ServicerContext
    ) -> tier_pb2.ProbeReply:
        try:
            self.guard.check_peer(context)
            if not 0 <= request.reply_bytes <= MAX_PROBE_BYTES:
                raise BadRequest(f"reply_bytes={request.reply_bytes}; allowed 0.."
                                 f"{MAX_PROBE_BYTES}")
        except SplitVLMError as exc:
            await abort(context, exc, request_id_of(context), log)
        return tier_pb2.ProbeReply(payload=bytes(request.reply_bytes))

    async def Status(  # noqa: N802
        self, request: tier_pb2.StatusRequest, context: grpc.aio.ServicerContext
    ) -> tier_pb2.TierStatus:
        try:
            self.guard.check_peer(context)
        except SplitVLMError as exc:
            await abort(context, exc, request_id_of(context), log)
        return status_to_pb(await self.executor.report())
