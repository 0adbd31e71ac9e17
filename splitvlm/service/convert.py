"""proto <-> Python: one converter per message, both ways (splitvlm.v1 <-> splitvlm's types).

    enums        TIER, PRECISION, ENCODING, LINK, POLICY, PRESET: EnumMap(python enum, proto)
    wire.proto   plan, forecast, payload (tensor), stage timing, link transfer
    tier.proto   request (header), event (token, result, cache miss), status, profile
    edge.proto   plan choice, answer (built by the edge; read back by the SDK)

A value the receiver cannot read is a BadRequest naming the field (an unknown enum number, a
missing required message); nothing is silently dropped. Every Python enum has a proto value
(checked when this module is imported), so adding a member without one fails at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from splitvlm.cache import CacheStats
from splitvlm.errors import BadRequest, PlanError
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
from splitvlm.executor.status import EngineLoad, LinkEstimate, TierStatus
from splitvlm.limits import MAX_REQUEST_ID_CHARS
from splitvlm.plan.measured import DecodeCost, PreprocessCost, ProfileReport, StageCost
from splitvlm.plan.plan import (
    Escalation,
    Forecast,
    Link,
    LinkForecast,
    Plan,
    Precision,
    StageForecast,
    Step,
    Tier,
    WaitForecast,
)
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import Preset
from splitvlm.v1 import edge_pb2, tier_pb2, wire_pb2
from splitvlm.wire import WireTensor
from splitvlm.wire.codecs import Encoding

E = TypeVar("E", bound=Enum)


class EnumMap(Generic[E]):
    """A Python enum <-> its proto enum, member for member (`PREFIX_NAME`; 0 unspecified)."""

    def __init__(self, py: type[E], pb: Any, prefix: str) -> None:
        self.py, self.prefix = py, prefix
        missing = [m.name for m in py if prefix + m.name not in pb.keys()]
        if missing:
            raise RuntimeError(f"{py.__name__} members {missing} have no {prefix}* value in "
                               "the proto: add them to protos/ and run `make protos`")
        self._to = {m: int(pb.Value(prefix + m.name)) for m in py}
        self._from = {v: m for m, v in self._to.items()}

    def to_pb(self, value: E) -> Any:  # the proto enum value (an int)
        return self._to[value]

    def from_pb(self, value: int, field: str, default: E | None = None) -> E:
        """The member for `value`; 0 (unspecified) is `default` where there is one."""
        if value == 0 and default is not None:
            return default
        member = self._from.get(value)
        if member is None:
            known = ", ".join(f"{v} ({self.prefix}{m.name})" for v, m in self._from.items())
            what = "unspecified" if value == 0 else f"unknown {self.py.__name__} {value}"
            raise BadRequest(f"{field} is {what}; expected one of {known}")
        return member


TIER = EnumMap(Tier, wire_pb2.Tier, "TIER_")
PRECISION = EnumMap(Precision, wire_pb2.Precision, "PRECISION_")
ENCODING = EnumMap(Encoding, wire_pb2.Encoding, "ENCODING_")
LINK = EnumMap(Link, wire_pb2.Link, "LINK_")
POLICY = EnumMap(Policy, wire_pb2.Policy, "POLICY_")
PRESET = EnumMap(Preset, edge_pb2.Preset, "PRESET_")


def _set(msg: Message, name: str, value: Message | None) -> None:
    if value is not None:
        getattr(msg, name).CopyFrom(value)


# --- wire.proto -------------------------------------------------------------------------------

def plan_to_pb(plan: Plan, with_forecast: bool = True) -> wire_pb2.Plan:
    msg = wire_pb2.Plan(
        name=plan.name,
        steps=[wire_pb2.Step(tier=TIER.to_pb(s.tier),
                             stages=wire_pb2.StageRange(start=s.start, stop=s.stop),
                             precision=PRECISION.to_pb(s.precision)) for s in plan.steps],
        encodings=[ENCODING.to_pb(e) for e in plan.encodings])
    up = plan.escalation
    if up is not None:
        msg.escalation.CopyFrom(wire_pb2.Escalation(
            tier=TIER.to_pb(up.tier), encoding=ENCODING.to_pb(up.encoding),
            threshold=up.threshold))
    if with_forecast and plan.predicted is not None:
        msg.predicted.CopyFrom(forecast_to_pb(plan.predicted))
    return msg


def plan_from_pb(msg: wire_pb2.Plan) -> Plan:
    try:
        steps = tuple(Step(TIER.from_pb(s.tier, f"plan.steps[{i}].tier"), s.stages.start,
                           s.stages.stop,
                           PRECISION.from_pb(s.precision, f"plan.steps[{i}].precision",
                                             Precision.FP32))
                      for i, s in enumerate(msg.steps))
        encodings = tuple(ENCODING.from_pb(e, f"plan.encodings[{i}]")
                          for i, e in enumerate(msg.encodings))
        escalation = None if not msg.HasField("escalation") else Escalation(
            TIER.from_pb(msg.escalation.tier, "plan.escalation.tier"),
            ENCODING.from_pb(msg.escalation.encoding, "plan.escalation.encoding"),
            msg.escalation.threshold)
    except BadRequest as exc:
        raise PlanError(f"malformed plan: {exc}") from exc
    predicted = forecast_from_pb(msg.predicted) if msg.HasField("predicted") else None
    return Plan(steps, encodings, msg.name, predicted, escalation)


def forecast_to_pb(f: Forecast) -> wire_pb2.Forecast:
    return wire_pb2.Forecast(
        latency_s=f.latency_s, energy_j=f.energy_j, accuracy=f.accuracy, objective=f.objective,
        edge_compute_s=f.edge_compute_s, edge_bytes=f.edge_bytes, overhead_s=f.overhead_s,
        stages=[wire_pb2.StageForecast(tier=TIER.to_pb(s.tier), stage=s.stage,
                                       seconds=s.seconds) for s in f.stages],
        waits=[wire_pb2.WaitForecast(tier=TIER.to_pb(w.tier), seconds=w.seconds)
               for w in f.waits],
        links=[wire_pb2.LinkForecast(link=LINK.to_pb(li.link), seconds=li.seconds,
                                     bytes=li.bytes) for li in f.links],
        p_escalate=f.p_escalate, escalated_latency_s=f.escalated_latency_s)


def forecast_from_pb(msg: wire_pb2.Forecast) -> Forecast:
    return Forecast(
        msg.latency_s, msg.energy_j, msg.accuracy, msg.objective, msg.edge_compute_s,
        msg.edge_bytes, msg.overhead_s,
        tuple(StageForecast(TIER.from_pb(s.tier, "forecast.stages.tier"), s.stage, s.seconds)
              for s in msg.stages),
        tuple(WaitForecast(TIER.from_pb(w.tier, "forecast.waits.tier"), w.seconds)
              for w in msg.waits),
        tuple(LinkForecast(LINK.from_pb(li.link, "forecast.links.link"), li.seconds, li.bytes)
              for li in msg.links),
        msg.p_escalate if msg.HasField("p_escalate") else None,
        msg.escalated_latency_s if msg.HasField("escalated_latency_s") else None)


def payload_to_pb(payload: Payload) -> wire_pb2.Payload:
    msg = wire_pb2.Payload(cut=payload.cut, encoding=ENCODING.to_pb(payload.encoding))
    if payload.tensor is not None:
        t = payload.tensor
        msg.tensor.CopyFrom(wire_pb2.Tensor(shape=list(t.shape), data=t.data, scales=t.scales,
                                            digest=t.digest))
    elif payload.encoding is Encoding.CACHE_REF:
        msg.cache_key = payload.cache_key
    else:
        msg.image = payload.image
    return msg


def payload_from_pb(msg: wire_pb2.Payload) -> Payload:
    """The body must be the one the encoding says."""
    encoding = ENCODING.from_pb(msg.encoding, "payload.encoding")
    body = msg.WhichOneof("body")
    expected = ("tensor" if encoding.is_tensor else
                "cache_key" if encoding is Encoding.CACHE_REF else "image")
    if body != expected:
        raise BadRequest(f"payload.encoding is {encoding} but the payload carries "
                         f"{body or 'no body'}; expected {expected}")
    if encoding.is_tensor:
        t = msg.tensor
        tensor = WireTensor(encoding, tuple(int(d) for d in t.shape), t.data, t.scales, t.digest)
        return Payload(msg.cut, encoding, tensor=tensor)
    if encoding is Encoding.CACHE_REF:
        return Payload(msg.cut, encoding, cache_key=msg.cache_key)
    return Payload(msg.cut, encoding, image=msg.image)


def timing_to_pb(t: StageTiming) -> wire_pb2.StageTiming:
    return wire_pb2.StageTiming(tier=TIER.to_pb(t.tier),
                                stages=wire_pb2.StageRange(start=t.start, stop=t.stop),
                                seconds=t.seconds)


def timing_from_pb(msg: wire_pb2.StageTiming) -> StageTiming:
    return StageTiming(TIER.from_pb(msg.tier, "timing.tier"), msg.stages.start, msg.stages.stop,
                       msg.seconds)


def transfer_to_pb(t: LinkTransfer) -> wire_pb2.LinkTransfer:
    return wire_pb2.LinkTransfer(link=LINK.to_pb(t.link), bytes=t.bytes, seconds=t.seconds)


def transfer_from_pb(msg: wire_pb2.LinkTransfer) -> LinkTransfer:
    return LinkTransfer(LINK.from_pb(msg.link, "link transfer.link"), msg.bytes, msg.seconds)


# --- tier.proto -------------------------------------------------------------------------------

def header_to_pb(request: Request, payload_bytes: int) -> tier_pb2.ExecuteHeader:
    """The request without its payload (which the chunks carry) or the plan's forecast (not
    needed downstream, and it would dominate a cache-hit request)."""
    return tier_pb2.ExecuteHeader(
        request_id=request.request_id, plan=plan_to_pb(request.plan, with_forecast=False),
        question=request.question, max_new_tokens=request.max_new_tokens,
        image_key=request.image_key, payload_bytes=payload_bytes,
        policies=[POLICY.to_pb(p) for p in sorted(request.policies)])


def request_from_pb(header: tier_pb2.ExecuteHeader, payload: Payload, deadline: float | None,
                    max_new_tokens: int) -> Request:
    """`max_new_tokens`: the limit, and the value for a header that leaves it 0."""
    if not header.HasField("plan"):
        raise BadRequest("the Execute header carries no plan")
    if len(header.request_id) > MAX_REQUEST_ID_CHARS:
        raise BadRequest(f"header.request_id is {len(header.request_id)} characters; at most "
                         f"{MAX_REQUEST_ID_CHARS}")
    if not 0 <= header.max_new_tokens <= max_new_tokens:
        raise BadRequest(f"header.max_new_tokens={header.max_new_tokens}; allowed 0.."
                         f"{max_new_tokens} (0: {max_new_tokens})")
    policies = frozenset(POLICY.from_pb(p, "header.policies") for p in header.policies)
    return Request(plan_from_pb(header.plan), header.question, payload,
                   header.max_new_tokens or max_new_tokens, header.image_key, deadline,
                   request_id=header.request_id, policies=policies)


def event_to_pb(event: Event) -> tier_pb2.ExecuteEvent:
    if isinstance(event, TokenEvent):
        return tier_pb2.ExecuteEvent(token=tier_pb2.Token(id=event.id, text=event.text))
    if isinstance(event, CacheMissEvent):
        return tier_pb2.ExecuteEvent(cache_miss=tier_pb2.CacheMiss(cache_key=event.cache_key))
    result = tier_pb2.ExecuteResult(
        timings=[timing_to_pb(t) for t in event.timings],
        links=[transfer_to_pb(li) for li in event.links], busy_s=event.busy_s,
        feature_cached_at=None if event.cached_at is None else TIER.to_pb(event.cached_at),
        tokens=event.tokens)
    _set(result, "status", None if event.status is None else status_to_pb(event.status))
    return tier_pb2.ExecuteEvent(result=result)


def event_from_pb(msg: tier_pb2.ExecuteEvent) -> Event:
    kind = msg.WhichOneof("event")
    if kind == "token":
        return TokenEvent(msg.token.id, msg.token.text)
    if kind == "cache_miss":
        return CacheMissEvent(msg.cache_miss.cache_key)
    if kind is None:
        raise BadRequest("an ExecuteEvent carries no event")
    r = msg.result
    cached_at = None if r.feature_cached_at == 0 else TIER.from_pb(r.feature_cached_at,
                                                                   "result.feature_cached_at")
    return ResultEvent([timing_from_pb(t) for t in r.timings],
                       [transfer_from_pb(li) for li in r.links], r.busy_s,
                       status_from_pb(r.status) if r.HasField("status") else None, cached_at,
                       r.tokens)


def status_to_pb(s: TierStatus) -> tier_pb2.TierStatus:
    msg = tier_pb2.TierStatus(
        tier=TIER.to_pb(s.tier), active=s.active, queued=s.engine.queued,
        running=s.engine.running, batch_mean=s.engine.batch_mean,
        visual_version=s.visual_version, vision_runs=s.vision_runs,
        max_answer_tokens=s.max_answer_tokens)
    if s.cache is not None:
        c = s.cache
        msg.cache.CopyFrom(tier_pb2.CacheStats(
            hits=c.hits, misses=c.misses, evictions=c.evictions, corrupted=c.corrupted,
            entries=c.entries, bytes=c.bytes, byte_budget=c.byte_budget))
    _set(msg, "profile", None if s.profile is None else profile_to_pb(s.profile))
    _set(msg, "downstream", None if s.downstream is None else status_to_pb(s.downstream))
    if s.next_link is not None:
        msg.next_link.CopyFrom(tier_pb2.LinkEstimate(bandwidth_bps=s.next_link.bandwidth_bps,
                                                     rtt_s=s.next_link.rtt_s))
    return msg


def status_from_pb(msg: tier_pb2.TierStatus) -> TierStatus:
    c = msg.cache
    cache = None if not msg.HasField("cache") else CacheStats(
        c.hits, c.misses, c.evictions, c.corrupted, c.entries, c.bytes, c.byte_budget)
    return TierStatus(
        TIER.from_pb(msg.tier, "status.tier"), msg.active,
        EngineLoad(msg.queued, msg.running, msg.batch_mean), cache, msg.visual_version,
        msg.vision_runs, msg.max_answer_tokens,
        profile_from_pb(msg.profile) if msg.HasField("profile") else None,
        status_from_pb(msg.downstream) if msg.HasField("downstream") else None,
        LinkEstimate(msg.next_link.bandwidth_bps, msg.next_link.rtt_s)
        if msg.HasField("next_link") else None)


def profile_to_pb(report: ProfileReport) -> tier_pb2.ComputeProfile:
    return tier_pb2.ComputeProfile(
        stages=[tier_pb2.StageCost(tier=TIER.to_pb(c.tier), precision=PRECISION.to_pb(
            c.precision), stage=c.stage, seconds=c.seconds) for c in report.stages],
        decode=[tier_pb2.DecodeCost(tier=TIER.to_pb(d.tier), batch=d.batch,
                                    seconds_per_token=d.seconds_per_token)
                for d in report.decode],
        preprocess=[tier_pb2.PreprocessCost(tier=TIER.to_pb(p.tier), megapixels=p.megapixels,
                                            seconds=p.seconds) for p in report.preprocess])


def profile_from_pb(msg: tier_pb2.ComputeProfile) -> ProfileReport:
    return ProfileReport(
        tuple(StageCost(TIER.from_pb(c.tier, "profile.stages.tier"), c.stage,
                        PRECISION.from_pb(c.precision, "profile.stages.precision",
                                          Precision.FP32), c.seconds) for c in msg.stages),
        tuple(DecodeCost(TIER.from_pb(d.tier, "profile.decode.tier"), d.batch,
                         d.seconds_per_token) for d in msg.decode),
        tuple(PreprocessCost(TIER.from_pb(p.tier, "profile.preprocess.tier"), p.megapixels,
                             p.seconds) for p in msg.preprocess))


# --- edge.proto -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerFields:
    """What the edge's last event says besides the plan (which its PlanChoice carried)."""

    text: str
    timings: list[StageTiming]
    links: list[LinkTransfer]
    latency_s: float
    image_key: str
    escalated: bool
    edge_confidence: float | None
    request_id: str
    fallback: str = ""  # why the edge's LM answered instead of the plan's (empty: it did not)
    degraded: bool = False  # the edge's LM answered because an upstream tier was unreachable


def plan_choice_to_pb(plan: Plan, explanation: str, stage_names: Iterable[str]
                      ) -> edge_pb2.PlanChoice:
    return edge_pb2.PlanChoice(plan=plan_to_pb(plan), explanation=explanation,
                               stage_names=list(stage_names))


def answer_to_pb(a: AnswerFields) -> edge_pb2.Answer:
    return edge_pb2.Answer(
        text=a.text, timings=[timing_to_pb(t) for t in a.timings],
        links=[transfer_to_pb(li) for li in a.links], latency_s=a.latency_s,
        image_key=a.image_key, escalated=a.escalated, edge_confidence=a.edge_confidence,
        request_id=a.request_id, fallback=a.fallback,
        degraded=a.degraded)


def answer_from_pb(msg: edge_pb2.Answer) -> AnswerFields:
    return AnswerFields(
        msg.text, [timing_from_pb(t) for t in msg.timings],
        [transfer_from_pb(li) for li in msg.links], msg.latency_s, msg.image_key,
        msg.escalated, msg.edge_confidence if msg.HasField("edge_confidence") else None,
        msg.request_id, msg.fallback, msg.degraded)
