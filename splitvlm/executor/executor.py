"""Executor: run this tier's step of a plan, forward the rest, relay the events back.

    request ──▶ materialise the boundary at my first cut (decode image / tensor / cache ref)
            ──▶ run my stages (timed)            ──▶ LM here? stream tokens, then a result
                                                 ──▶ else encode my last boundary, forward,
                                                     relay tokens, add my timings and the link
A tier that has no step in the plan but sits between two that do relays the payload as is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import replace

import numpy as np

from splitvlm.cache import FeatureCache
from splitvlm.data.camera import decode_image
from splitvlm.errors import BadRequest, FailedPrecondition, TierUnavailable
from splitvlm.executor.compute import TierCompute
from splitvlm.executor.messages import (
    CacheMissEvent,
    Event,
    LinkTransfer,
    Payload,
    Request,
    ResultEvent,
    StageTiming,
    TokenEvent,
)
from splitvlm.executor.status import EngineLoad, TierStatus
from splitvlm.executor.transport import NextHop
from splitvlm.plan.measured import ProfileReport
from splitvlm.plan.plan import Precision, Step, Tier, escalates, outgoing
from splitvlm.plan.policies import enforce, enforce_arrival
from splitvlm.wire import decode, encode
from splitvlm.wire.codecs import Encoding, codec

CACHE_ENCODING = Encoding.FP16  # visual tokens are cached in this wire encoding


class Executor:
    def __init__(
        self, tier: Tier, compute: TierCompute, profile: ProfileReport | None = None,
        next_hop: NextHop | None = None, cache: FeatureCache | None = None,
    ) -> None:
        """`profile`: this tier's start-up measurement (splitvlm.executor.measure), which its
        status reports; `next_hop`: how to reach the next tier (None: the last tier)."""
        self.tier, self.compute, self.next_hop, self.cache = tier, compute, next_hop, cache
        self.profile = profile or ProfileReport()
        self.graph = compute.graph
        self.text = compute.text
        self.active = 0
        self.vision_runs = 0  # executions of vision stages (a cache hit needs none)

    async def execute(self, request: Request) -> AsyncGenerator[Event, None]:
        """Run a request; yields TokenEvents, then exactly one ResultEvent (or a CacheMiss).
        The request's policies are enforced here, on every tier (PolicyViolation)."""
        request.plan.validate(self.graph)
        enforce(request.plan, request.policies)
        enforce_arrival(self.tier, request.payload.encoding, request.policies)
        self.active += 1
        try:
            step = request.plan.step_for(self.tier)
            if step is None:  # a relay: pass the payload on (and keep visual tokens we see)
                cached = self._remember_payload(request)
                async for event in self._forward(request, request.payload, [], 0.0, cached):
                    yield event
                return
            async for event in self._run_step(request, step):
                yield event
        finally:
            self.active -= 1

    async def _run_step(self, request: Request, step: Step) -> AsyncIterator[Event]:
        started = time.perf_counter()
        timings: list[StageTiming] = []
        handoff = request.plan.steps.index(step)
        lm_here = step.stop == self.graph.n_stages
        outgoing = None if lm_here else request.plan.encodings[handoff]
        if outgoing is Encoding.CACHE_REF:  # the receiver holds our output: compute nothing
            if not request.image_key:
                raise BadRequest("a cache_ref hand-off needs the image's key")
            payload = Payload(step.stop, outgoing, cache_key=request.image_key)
            own = self._own(request, step, None, timings, started)
            async for event in self._forward_or_own(request, payload, timings, started, False,
                                                    own):
                yield event
            return
        value = self._materialise(request, step)
        if isinstance(value, CacheMissEvent):
            yield value
            return
        held = self._held(request, step)
        cached = False  # whether a later plan may send a cache_ref here (never to the edge)
        if held is not None:  # the edge computed the image's visual tokens before
            value = held
        else:
            value = await self._run_visual(step, value, timings, request.pixels)
            cached = self._remember(request, step, value) and self.tier is not Tier.EDGE
        if lm_here and request.plan.escalation is not None:
            async for event in self._cascade(request, value, timings, started, cached):
                yield event
            return
        if lm_here:
            async for event in self._generate(request, value, timings, started, cached):
                yield event
            return
        assert outgoing is not None
        payload = self._encode(step.stop, outgoing, value, request)
        own = self._own(request, step, value, timings, started)
        async for event in self._forward_or_own(request, payload, timings, started, cached,
                                                own):
            yield event

    async def _forward_or_own(
        self, request: Request, payload: Payload, timings: list[StageTiming], started: float,
        cached: bool, own: Callable[[], AsyncIterator[Event]] | None,
    ) -> AsyncIterator[Event]:
        """Forward; a next tier that is unavailable before its first token, for a request
        that may fall back (`own` not None), is answered by `own` instead, and the result
        says why (ResultEvent.fallback). Tokens streamed from it cannot be taken back."""
        busy = time.perf_counter() - started
        streamed = False
        try:
            async for event in self._forward(request, payload, timings, busy, cached):
                streamed = streamed or isinstance(event, TokenEvent)
                yield event
        except TierUnavailable as exc:
            if streamed or own is None:
                raise
            async for event in own():
                if isinstance(event, ResultEvent):
                    event.fallback = exc
                yield event

    def _materialise(self, request: Request, step: Step) -> np.ndarray | bytes | CacheMissEvent:
        """The boundary value at the start of my step, decoded from the payload."""
        payload = request.payload
        if payload.cut != step.start:
            raise BadRequest(f"payload is at cut {payload.cut} but the {self.tier} step of the "
                             f"plan starts at stage {step.start}")
        if step is request.plan.steps[0]:  # the edge takes the client's image
            if payload.encoding is not Encoding.IMAGE or payload.cut != 0:
                raise BadRequest("the edge takes an image (cut 0)")
            return payload.image
        handoff = [s.stop for s in request.plan.steps].index(step.start)
        planned = request.plan.encodings[handoff]
        if payload.encoding is not planned and not (
                planned.is_tensor and payload.encoding in codec(planned).arrives_as):
            raise BadRequest(f"payload is {payload.encoding}; the plan sends "
                             f"{request.plan.encodings[handoff]} at cut {step.start}")
        boundary = self.graph.boundary(step.start)
        if payload.encoding is Encoding.IMAGE:
            return payload.image
        if payload.encoding is Encoding.PNG:
            pixels = decode_image(payload.image)
            if pixels.shape != boundary.shape:
                raise BadRequest(f"PNG pixels are {pixels.shape}; the model takes "
                                 f"{boundary.shape} at cut {step.start}")
            return pixels[None]  # (1, S, S, 3)
        if payload.encoding is Encoding.CACHE_REF:
            return self._lookup(payload.cache_key)
        if payload.tensor is None:
            raise BadRequest(f"encoding {payload.encoding} needs a tensor in the payload")
        return decode(payload.tensor, (1, *boundary.shape))

    def _lookup(self, key: str) -> np.ndarray | CacheMissEvent:
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is None:
            return CacheMissEvent(key)
        return decode(hit, (1, *self.graph.boundary(self.graph.prefill).shape))

    async def _run_visual(
        self, step: Step, value: np.ndarray | bytes, timings: list[StageTiming],
        pixels: np.ndarray | None = None,
    ) -> np.ndarray | bytes:
        start, stop = step.start, step.stop
        if start == self.graph.preprocess < stop and pixels is not None:
            value, start = pixels, self.graph.patch_embed  # the edge preprocessed already
        for first, last, runner in self.compute.segments(start, stop, step.precision):
            t0 = time.perf_counter()
            if first > self.graph.preprocess:
                self.vision_runs += 1
            value = await asyncio.to_thread(runner.run, value, first, last)
            timings.append(StageTiming(self.tier, first, last, time.perf_counter() - t0))
        return value

    def _tokens_key(self, request: Request, step: Step) -> str:
        """Where this tier keeps the visual tokens its step computes: by image, and (below
        fp32, as the edge's INT8 vision) by the precision that computed them."""
        if step.precision is Precision.FP32:
            return request.image_key
        return f"{request.image_key}@{step.precision.value}"

    def _held(self, request: Request, step: Step) -> np.ndarray | None:
        """The visual tokens of a step that computes them from pixels, if this tier computed
        them for this image before (a near-duplicate frame, a second question): no vision.
        The edge only: a fog or cloud sent an image computes what the edge asked it to."""
        if (self.tier is not Tier.EDGE or not request.reuse_tokens or self.cache is None
                or not request.image_key or step.stop < self.graph.prefill
                or step.start > self.graph.patch_embed):
            return None
        hit = self.cache.get(self._tokens_key(request, step))
        if hit is None:
            return None
        return decode(hit, (1, *self.graph.boundary(self.graph.prefill).shape))

    def _remember(self, request: Request, step: Step, value: np.ndarray | bytes) -> bool:
        """A tier with a feature cache keeps the visual tokens it computes or decodes, keyed
        by image (the fog's L2; the edge's own, for frames that repeat)."""
        if self.cache is None or not request.image_key or step.stop < self.graph.prefill:
            return False
        if request.payload.encoding is Encoding.CACHE_REF:
            return False  # they came from the cache
        assert isinstance(value, np.ndarray)
        key = (self._tokens_key(request, step) if step.start <= self.graph.patch_embed
               else request.image_key)  # decoded from a payload: as the fog always kept them
        return self.cache.put(key, encode(value.astype(np.float32), CACHE_ENCODING))

    def _remember_payload(self, request: Request) -> bool:
        """A relay keeps visual tokens passing through, in the encoding they arrived in."""
        payload = request.payload
        if (self.cache is None or not request.image_key or payload.tensor is None
                or payload.cut != self.graph.prefill):
            return False
        decode(payload.tensor, (1, *self.graph.boundary(payload.cut).shape))  # valid first
        return self.cache.put(request.image_key, payload.tensor)

    def _encode(self, cut: int, encoding: Encoding, value: np.ndarray | bytes, request: Request
                ) -> Payload:
        if isinstance(value, bytes):  # nothing ran here: the image goes on as sent
            return Payload(cut, Encoding.IMAGE, image=value)
        if encoding is Encoding.CACHE_REF:
            return Payload(cut, encoding, cache_key=request.image_key)
        if encoding is Encoding.PNG:
            from splitvlm.data.camera import encode_image

            return Payload(cut, encoding, image=encode_image(value[0], "PNG"))
        tensor = encode(value.astype(np.float32), encoding)
        return Payload(cut, tensor.encoding, tensor=tensor)  # as applied (lz4 may fall back)

    async def _generate(
        self, request: Request, visual: np.ndarray | bytes, timings: list[StageTiming],
        started: float, cached: bool,
    ) -> AsyncIterator[Event]:
        assert isinstance(visual, np.ndarray)
        if self.compute.lm is None:
            raise BadRequest(f"the {self.tier} tier runs no language model")
        prompt = self.text.prompt(request.question)
        t0 = time.perf_counter()
        n = 0
        speller = self.text.speller()
        async for token in self.compute.lm.stream(visual, prompt, request.max_new_tokens,
                                                  request.deadline):
            n += 1
            if self.text.is_end(token):
                break
            if (piece := speller.piece(token)) is not None:
                yield TokenEvent(token, piece)
        timings.append(self._lm_timing(time.perf_counter() - t0))
        yield ResultEvent(timings, [], time.perf_counter() - started, self.status(),
                          self.tier if cached else None, n)

    def _own(self, request: Request, step: Step, value: np.ndarray | bytes | None,
             timings: list[StageTiming], started: float
             ) -> Callable[[], AsyncIterator[Event]] | None:
        """This tier's LM's answer, should the next tier fail: from the visual tokens it
        computed, or (a step that stops short of them, or sent only a cache reference) from
        the pixels it preprocessed, through the rest of its vision. None where the request
        may not fall back or this tier cannot answer."""
        computed = value is not None and step.stop == self.graph.prefill
        if not request.fallback or self.compute.lm is None or not (
                computed or request.pixels is not None):
            return None

        async def answer() -> AsyncIterator[Event]:
            visual = value
            if not computed:
                assert request.pixels is not None
                rest = Step(self.tier, self.graph.patch_embed, self.graph.prefill,
                            step.precision)
                visual = self._held(request, rest)  # the image's tokens, kept before
                if visual is None:
                    visual = await self._run_visual(rest, request.pixels, timings)
                    self._remember(request, rest, visual)
            assert visual is not None
            async for event in self._generate(request, visual, timings, started, False):
                yield event
        return answer

    def _lm_timing(self, seconds: float) -> StageTiming:
        lm = self.graph.lm_stages
        return StageTiming(self.tier, lm.start, lm.stop, seconds)

    async def _cascade(
        self, request: Request, visual: np.ndarray | bytes, timings: list[StageTiming],
        started: float, cached: bool,
    ) -> AsyncIterator[Event]:
        """The edge's LM answers whole; a confident answer streams, an unsure one is dropped
        (never streamed: a caller acting on tokens must not act on a draft that the next
        tokens contradict) and the visual tokens go up to the escalation tier's LM."""
        assert isinstance(visual, np.ndarray) and request.plan.escalation is not None
        up = request.plan.escalation
        if self.compute.scorer is None:
            raise BadRequest(f"the {self.tier} tier cannot score its answers, so it cannot "
                             "start a cascade")
        prompt = self.text.prompt(request.question)
        t0 = time.perf_counter()
        ids, confidence = await self.compute.scorer.answer(visual, prompt, request.max_new_tokens)
        timings.append(self._lm_timing(time.perf_counter() - t0))

        async def draft() -> AsyncIterator[Event]:
            speller = self.text.speller()
            for token in ids:
                if self.text.is_end(token):
                    break
                if (piece := speller.piece(token)) is not None:
                    yield TokenEvent(token, piece)
            yield ResultEvent(timings, [], time.perf_counter() - started, self.status(),
                              self.tier if cached else None, len(ids), confidence=confidence)

        if not escalates(confidence, up.threshold):
            async for event in draft():
                yield event
            return
        upstream = replace(request, plan=request.plan.escalated(self.graph))
        payload = self._encode(self.graph.prefill, up.encoding, visual, upstream)
        # the escalation tier unavailable: the draft is the best answer this tier has
        async for event in self._forward_or_own(upstream, payload, timings, started, cached,
                                                draft if request.fallback else None):
            if isinstance(event, ResultEvent) and event.fallback is None:
                event.escalated, event.confidence = True, confidence
            yield event

    async def _forward(
        self, request: Request, payload: Payload, timings: list[StageTiming], busy: float,
        cached: bool,
    ) -> AsyncIterator[Event]:
        if self.next_hop is None:
            raise FailedPrecondition(f"the plan continues past the {self.tier} tier, which "
                                     "has no next tier configured")
        onward = replace(request, payload=payload, pixels=None)  # pixels stay here
        t0 = time.perf_counter()
        call = self.next_hop.forwarder.execute(onward)
        async for event in call.events:
            if isinstance(event, ResultEvent):
                call_s = time.perf_counter() - t0
                network = max(call_s - event.busy_s, 0.0)
                event.links.insert(0, LinkTransfer(outgoing(self.tier), call.sent_bytes,
                                                   network))
                event.timings[:0] = timings
                # the whole time here and below, the next tier's own link included: what the
                # tier before us subtracts from its call time to find its link's time
                event.busy_s = busy + call_s
                if cached:
                    event.cached_at = self.tier
            yield event

    async def report(self) -> TierStatus:
        """The full status: this tier's, its profile merged with those behind it, the next
        tier's status and the link to it (what `TierService.Status` answers)."""
        status = replace(self.status(), profile=self.profile)
        if self.next_hop is None:
            return status
        below = await self.next_hop.downstream.status()
        link = await self.next_hop.downstream.link()
        profile = self.profile if below is None or below.profile is None else (
            self.profile.merged(below.profile))
        return replace(status, profile=profile, downstream=below, next_link=link)

    def status(self) -> TierStatus:
        """This tier's load, cache and limits (what every result carries)."""
        return TierStatus(
            self.tier, self.active,
            self.compute.stats() if self.compute.stats is not None else EngineLoad(),
            self.cache.stats() if self.cache is not None else None,
            self.compute.visual_version, self.vision_runs, self.compute.max_answer_tokens)
