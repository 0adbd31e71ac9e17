"""The client-facing `Edge` service: Ask = choose a plan, run it from the edge, stream events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import grpc

from splitvlm.data.tokenizer import Tokenizer
from splitvlm.errors import BadRequest
from splitvlm.executor import Executor, Payload, Request, ResultEvent, TokenEvent
from splitvlm.plan.plan import Encoding, Plan
from splitvlm.service.convert import plan_to_pb
from splitvlm.service.errors import status_for
from splitvlm.service.tier_service import deadline_from
from splitvlm.v1 import edge_pb2, edge_pb2_grpc, tier_pb2, wire_pb2

MAX_QUESTION_CHARS = 1000
MAX_NEW_TOKENS = 64

# (request) -> (plan, explanation): named plans or the planner
ChoosePlan = Callable[[edge_pb2.AskRequest], tuple[Plan, str]]


class EdgeServicer(edge_pb2_grpc.EdgeServicer):
    def __init__(self, executor: Executor, choose: ChoosePlan, max_image_bytes: int) -> None:
        self.executor, self.choose, self.max_image_bytes = executor, choose, max_image_bytes
        self.tokenizer = Tokenizer()

    def validate(self, request: edge_pb2.AskRequest) -> None:
        if not request.image:
            raise BadRequest("image is empty; send JPEG or PNG bytes")
        if len(request.image) > self.max_image_bytes:
            raise BadRequest(f"image is {len(request.image)} bytes, over the limit of "
                             f"{self.max_image_bytes}; downscale it or raise max_payload_bytes")
        if not request.question.strip():
            raise BadRequest("question is empty; ask something about the image")
        if len(request.question) > MAX_QUESTION_CHARS:
            raise BadRequest(f"question is {len(request.question)} characters; the limit is "
                             f"{MAX_QUESTION_CHARS}")
        self.tokenizer.encode(request.question)  # ValueError names unknown words
        if not 0 <= request.max_new_tokens <= MAX_NEW_TOKENS:
            raise BadRequest(f"max_new_tokens={request.max_new_tokens}; allowed 0.."
                             f"{MAX_NEW_TOKENS} (0 = default)")

    async def Ask(  # noqa: N802 - gRPC method name
        self, request: edge_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[edge_pb2.AskEvent]:
        try:
            async for event in self._ask(request, deadline_from(context)):
                yield event
        except Exception as exc:  # noqa: BLE001 - mapped to a status, or re-raised
            code = status_for(exc)
            if code is None:
                raise
            await context.abort(code, str(exc))

    async def _ask(self, request: edge_pb2.AskRequest, deadline: float | None
                   ) -> AsyncIterator[edge_pb2.AskEvent]:
        started = time.perf_counter()
        self.validate(request)
        plan, explanation = self.choose(request)
        yield edge_pb2.AskEvent(plan=plan_to_pb(plan))
        words: list[str] = []
        run = Request(plan, request.question, Payload(0, Encoding.IMAGE, image=request.image),
                      request.max_new_tokens or 24, "", deadline)
        async for event in self.executor.execute(run):
            if isinstance(event, TokenEvent):
                words.append(event.text)
                yield edge_pb2.AskEvent(token=tier_pb2.Token(id=event.id, text=event.text))
            elif isinstance(event, ResultEvent):
                yield edge_pb2.AskEvent(answer=edge_pb2.Answer(
                    text=" ".join(words), plan=plan_to_pb(plan),
                    timings=[wire_pb2.StageTiming(tier=t.tier, stage=t.stage, seconds=t.seconds)
                             for t in event.timings],
                    links=[wire_pb2.LinkTransfer(link=li.link, bytes=li.bytes,
                                                 seconds=li.seconds) for li in event.links],
                    latency_s=time.perf_counter() - started, explanation=explanation))
