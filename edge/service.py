"""The client-facing `Edge` service: Ask = prepare the image, choose a plan, run it, stream.

    image bytes ─ preprocess (once) ─▶ pixels, feature key ─▶ L1 ─▶ plan (named or planner)
      ─▶ executor (edge step, forward, relay tokens) ─▶ answer with timings, bytes, prediction
A cache reference the fog no longer holds comes back as a cache miss: the edge forgets it and
runs the same placement again sending the tensor, before any token has streamed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import grpc
import numpy as np

from edge.l1 import EdgeL1
from edge.planning import AUTO, AUTO_FIXED
from splitvlm.data.camera import decode_for_model, encode_image
from splitvlm.errors import (
    BadRequest,
    ImageNotHeld,
    NotAvailable,
    PlanError,
    QuestionError,
    TierUnavailable,
)
from splitvlm.executor import (
    CacheMissEvent,
    Executor,
    Payload,
    Request,
    ResultEvent,
    StageTiming,
    TokenEvent,
)
from splitvlm.limits import MAX_PLAN_NAME_CHARS, MAX_QUESTION_CHARS
from splitvlm.plan.named import without_cache_ref
from splitvlm.plan.plan import Plan, Step, Tier
from splitvlm.plan.policies import Policy, enforce
from splitvlm.plan.presets import Preset
from splitvlm.service.admission import Admission
from splitvlm.service.convert import (
    POLICY,
    PRESET,
    AnswerFields,
    answer_to_pb,
    plan_choice_to_pb,
)
from splitvlm.service.requestlog import RequestLog, served
from splitvlm.service.telemetry import Telemetry
from splitvlm.service.tier_service import deadline_from, request_id_of
from splitvlm.trust.identity import Guard
from splitvlm.v1 import edge_pb2, edge_pb2_grpc, tier_pb2
from splitvlm.wire import feature_key
from splitvlm.wire.codecs import Encoding

log = logging.getLogger("splitvlm.edge")


MAX_ATTEMPTS = 2  # a request runs again, before any token, after a cache miss


def planned(plan_name: str) -> bool:
    """Whether the planner chooses the plan (and may choose again); a named plan is pinned."""
    return plan_name in ("", AUTO, AUTO_FIXED)


class EdgeBrain(Protocol):
    """What the edge tier decides: plans (named or planned), its L1, learning from answers."""

    def choose(self, name: str, question: str, policies: frozenset[Policy],
               preset: Preset | None, image_bytes: int, png_bytes: int, deadline_s: float,
               cache_hit: bool, image_mpix: float | None) -> tuple[Plan, str]: ...

    def record(self, plan: Plan, result: ResultEvent, latency_s: float,
               image_mpix: float | None, question: str = "") -> None: ...

    def unreachable(self, tier: Tier, suspected: bool = False) -> None:
        """`tier` did not answer: plan around it until it is seen again (`suspected`: once its
        status confirms it)."""
        ...

    def reachable(self, tier: Tier) -> bool:
        """Whether `tier` is reachable now, as far as the edge knows."""
        ...


@dataclass(frozen=True)
class Ask:
    """An AskRequest, checked: what the edge runs."""

    question: str  # as the model takes it (TextCodec.check)
    plan_name: str
    policies: frozenset[Policy]
    preset: Preset | None  # None: the planner's default
    max_new_tokens: int
    no_cache: bool


@dataclass(frozen=True)
class Prepared:
    """One request's image, ready to plan with."""

    image: bytes  # what an IMAGE hand-off sends: the caller's bytes, or the L1's PNG
    pixels: np.ndarray  # (S, S, 3) uint8 at model resolution
    key: str  # feature key (pixels + visual version)
    png_bytes: int  # size of the pixels as PNG
    preprocess_s: float  # decode + downscale + key + PNG, measured (0 for a key-only turn)
    mpix: float | None  # megapixels of the image as sent (None: a key-only turn)


class EdgeServicer(edge_pb2_grpc.EdgeServiceServicer):
    def __init__(self, executor: Executor, brain: EdgeBrain, l1: EdgeL1,
                 max_image_bytes: int, guard: Guard, admission: Admission,
                 telemetry: Telemetry | None = None) -> None:
        self.executor, self.brain, self.l1, self.guard = executor, brain, l1, guard
        self.telemetry = telemetry or Telemetry.off(Tier.EDGE, executor)
        self.admission = admission
        self.max_image_bytes = max_image_bytes
        self.graph = executor.graph

    def validate(self, request: edge_pb2.AskRequest) -> Ask:
        """The request's fields, checked and typed; BadRequest naming the first bad one."""
        if not request.image and not request.image_key:
            raise BadRequest("image is empty; send JPEG or PNG bytes (or an earlier image_key)")
        if len(request.image) > self.max_image_bytes:
            raise BadRequest(f"image is {len(request.image)} bytes, over the limit of "
                             f"{self.max_image_bytes}; downscale it or raise max_payload_bytes")
        if len(request.plan_name) > MAX_PLAN_NAME_CHARS:
            raise PlanError(f"plan_name is {len(request.plan_name)} characters; at most "
                            f"{MAX_PLAN_NAME_CHARS}")
        if len(request.question) > MAX_QUESTION_CHARS:
            raise QuestionError(f"question is {len(request.question)} characters; the limit "
                                f"is {MAX_QUESTION_CHARS}")
        question = self.executor.text.check(request.question)  # QuestionError: why not
        limit = self.executor.compute.max_answer_tokens
        if not 0 <= request.max_new_tokens <= limit:
            raise BadRequest(f"max_new_tokens={request.max_new_tokens}; allowed 0..{limit} "
                             f"(0 = the default, {limit})")
        policies = frozenset(POLICY.from_pb(p, "policies") for p in request.policies)
        preset = None if request.preset == 0 else PRESET.from_pb(request.preset, "preset")
        return Ask(question, request.plan_name, policies, preset,
                   request.max_new_tokens or limit, request.no_cache)

    def prepare(self, request: edge_pb2.AskRequest) -> Prepared:
        """The image decoded and downscaled, or (a key-only turn) taken from the L1."""
        t0 = time.perf_counter()
        if request.image:
            pixels, mpix = decode_for_model(request.image, self.graph.image_size)  # (S, S, 3)
            key = feature_key(pixels, self.executor.compute.visual_version)
            png = encode_image(pixels, "PNG")
            self.l1.remember(key, pixels, png)
            return Prepared(request.image, pixels, key, len(png), time.perf_counter() - t0,
                            mpix)
        held = self.l1.pixels(request.image_key)
        if held is None:
            raise ImageNotHeld(f"image_key {request.image_key[:12]}… is not held by this edge "
                               "(evicted or never sent); send the image again")
        pixels, png = held
        return Prepared(png, pixels, request.image_key, len(png), 0.0, None)

    async def Ask(  # noqa: N802 - gRPC method name
        self, request: edge_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[edge_pb2.AskEvent]:
        async with served(context, RequestLog(request_id_of(context), "edge"), log,
                          self.telemetry, "Ask") as trace:
            self.guard.check_client(context)
            with self.admission.slot():
                async for event in self._ask(request, deadline_from(context), trace):
                    if event.HasField("answer"):
                        trace.outcome = "OK"  # the caller may hang up as soon as it has this
                    yield event

    def _choice(self, plan: Plan, explanation: str) -> edge_pb2.AskEvent:
        names = [s.name for s in self.graph.stages]
        return edge_pb2.AskEvent(plan=plan_choice_to_pb(plan, explanation, names))

    async def _ask(self, request: edge_pb2.AskRequest, deadline: float | None,
                   trace: RequestLog) -> AsyncIterator[edge_pb2.AskEvent]:
        request_id = trace.request_id
        started = time.perf_counter()
        ask = self.validate(request)
        prepared = await asyncio.to_thread(self.prepare, request)  # the loop keeps serving
        image, pixels, key = prepared.image, prepared.pixels, prepared.key
        hit = not ask.no_cache and self.l1.at_fog(key)

        budget_s = math.inf if deadline is None else max(deadline - time.monotonic(), 1e-3)
        plan, explanation = self.brain.choose(ask.plan_name, ask.question, ask.policies,
                                              ask.preset, len(image), prepared.png_bytes,
                                              budget_s, hit, prepared.mpix)
        trace.note(plan=plan.name, lm=plan.lm_tier.value)
        enforce(plan, ask.policies)  # before the plan is announced: a named plan may break one
        yield self._choice(plan, explanation)
        words: list[str] = []
        result: ResultEvent | None = None
        for _attempt in range(MAX_ATTEMPTS):
            run = Request(plan, ask.question, Payload(0, Encoding.IMAGE, image=image),
                          ask.max_new_tokens, key, deadline, pixels[None], request_id,
                          ask.policies, fallback=planned(ask.plan_name),
                          trace=trace.onward, reuse_tokens=not ask.no_cache)
            miss = False
            try:
                async for event in self.executor.execute(run):
                    if isinstance(event, TokenEvent):
                        words.append(event.text)
                        yield edge_pb2.AskEvent(token=tier_pb2.Token(id=event.id,
                                                                     text=event.text))
                    elif isinstance(event, CacheMissEvent):
                        miss = True
                    else:
                        result = event
            except TierUnavailable as exc:  # pinned, or tokens had streamed: no fallback
                self.brain.unreachable(Tier(exc.tier))
                raise
            if not miss:
                break
            self.l1.mark_at_fog(key, False)  # the fog evicted it: send the tensor this time
            plan = without_cache_ref(plan)
            explanation += "\n  cache miss at the fog: re-sent the visual tokens"
            yield self._choice(plan, explanation)
        if result is None:
            raise NotAvailable(f"no answer after {MAX_ATTEMPTS} attempts (the fog evicted "
                               "the image's visual tokens twice)")
        if result.cached_at is Tier.FOG:
            self.l1.mark_at_fog(key)
        latency_s = time.perf_counter() - started
        result.timings.insert(0, StageTiming(Tier.EDGE, self.graph.preprocess,
                                             self.graph.patch_embed, prepared.preprocess_s))
        ran = plan
        degraded = result.fallback is not None or (
            plan.lm_tier is Tier.EDGE and not self.brain.reachable(Tier.FOG))
        if result.fallback is not None:  # the edge's LM answered: learn it as edge-only
            self.brain.unreachable(Tier(result.fallback.tier), result.fallback.suspected)
            ran = Plan((Step(Tier.EDGE, 0, self.graph.n_stages, plan.steps[0].precision),),
                       (), "edge-only (fallback)")
            trace.note(fallback=result.fallback.tier)
        self.brain.record(ran, result, latency_s, prepared.mpix, ask.question)
        self.telemetry.metrics.result(result)
        self.telemetry.metrics.plan(plan, ran.lm_tier, None if plan.predicted is None
                                    else plan.predicted.latency_s, latency_s, degraded)
        if degraded:
            trace.note(degraded=True)
        trace.note(plan=plan.name, tokens=len(words),
                   **({} if plan.predicted is None
                      else {"predicted_ms": plan.predicted.latency_s * 1e3}))
        yield edge_pb2.AskEvent(answer=answer_to_pb(AnswerFields(
            self.executor.text.join(words), result.timings, result.links, latency_s, key,
            result.escalated, result.confidence, request_id,
            "" if result.fallback is None else str(result.fallback), degraded)))
