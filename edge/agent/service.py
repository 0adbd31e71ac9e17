"""AgentService: local apps hand the agent frames (SubmitFrame) and read its results
(Subscribe); Status shows each source's counters and what waits on disk."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import grpc

from edge.agent.daemon import Agent
from edge.agent.results import Subscriber
from splitvlm.data.camera import decode_for_model
from splitvlm.errors import BadRequest, SplitVLMError
from splitvlm.service.errors import abort
from splitvlm.v1 import agent_pb2, agent_pb2_grpc

log = logging.getLogger("splitvlm.agent")
MAX_FRAME_BYTES = 16 << 20


class AgentServicer(agent_pb2_grpc.AgentServiceServicer):
    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    async def SubmitFrame(  # noqa: N802 - gRPC method name
        self, request_iterator: AsyncIterator[agent_pb2.Frame],
        context: grpc.aio.ServicerContext,
    ) -> agent_pb2.SubmitReply:
        reply = agent_pb2.SubmitReply(first_frame=-1, last_frame=-1)
        n = 0
        async for frame in request_iterator:
            try:
                if len(frame.image) > MAX_FRAME_BYTES:
                    raise BadRequest(f"frame {n} is {len(frame.image)} bytes; at most "
                                     f"{MAX_FRAME_BYTES}")
                pixels = decode_for_model(frame.image, self.agent.graph.image_size)[0]
                try:
                    seq = self.agent.submit(frame.source, pixels,
                                            frame.captured_unix_s or time.time())
                except LookupError as exc:
                    raise BadRequest(str(exc)) from exc
            except SplitVLMError as exc:
                exc.args = (f"frame {n}: {exc}; the {reply.accepted} frame(s) before it were "
                            f"accepted (frames {reply.first_frame}..{reply.last_frame})",)
                await abort(context, exc, "", log)
            n += 1
            if seq is not None:
                reply.accepted += 1
                reply.last_frame = seq
                if reply.first_frame < 0:
                    reply.first_frame = seq
        return reply

    async def Subscribe(  # noqa: N802 - gRPC method name
        self, request: agent_pb2.SubscribeRequest, context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[agent_pb2.AgentResult]:
        subscriber = Subscriber(frozenset(request.sources))
        self.agent.results.subscribers.add(subscriber)
        await context.send_initial_metadata(())  # subscribed: a client may wait for this
        try:
            while True:
                yield await subscriber.queue.get()
        finally:
            self.agent.results.subscribers.discard(subscriber)
            if subscriber.dropped:
                log.warning("a subscriber fell behind and lost %d result(s)",
                            subscriber.dropped)

    async def Status(  # noqa: N802 - gRPC method name
        self, request: agent_pb2.AgentStatusRequest, context: grpc.aio.ServicerContext,
    ) -> agent_pb2.AgentStatus:
        return self.agent.status()
