"""proto <-> Python for plans, payloads and events (splitvlm.v1 <-> splitvlm.executor)."""

from __future__ import annotations

from typing import Any

from splitvlm.errors import PlanError
from splitvlm.executor.messages import (
    CacheMissEvent,
    Event,
    LinkTransfer,
    Payload,
    ResultEvent,
    StageTiming,
    TokenEvent,
)
from splitvlm.plan.plan import Escalation, Plan, Precision, Step, Tier
from splitvlm.v1 import tier_pb2, wire_pb2
from splitvlm.wire import WireTensor
from splitvlm.wire.codecs import Encoding

_ENCODINGS: dict[Encoding, Any] = {e: wire_pb2.Encoding.Value(e.name) for e in Encoding}
_FROM_PB = {v: k for k, v in _ENCODINGS.items()}


def encoding_to_pb(encoding: Encoding) -> Any:
    return _ENCODINGS[encoding]


def encoding_from_pb(value: int) -> Encoding:
    if value not in _FROM_PB:
        raise PlanError(f"unknown encoding {value}; expected one of {sorted(_FROM_PB)}")
    return _FROM_PB[value]


def plan_to_pb(plan: Plan) -> wire_pb2.Plan:
    up = plan.escalation
    return wire_pb2.Plan(
        name=plan.name,
        steps=[wire_pb2.Step(tier=s.tier.value, start=s.start, stop=s.stop,
                             precision=s.precision.value) for s in plan.steps],
        encodings=[encoding_to_pb(e) for e in plan.encodings],
        predicted=plan.predicted,
        escalation=None if up is None else wire_pb2.Escalation(
            tier=up.tier.value, encoding=encoding_to_pb(up.encoding), threshold=up.threshold),
    )


def plan_from_pb(msg: wire_pb2.Plan) -> Plan:
    try:
        steps = tuple(Step(Tier(s.tier), s.start, s.stop, Precision(s.precision or "fp32"))
                      for s in msg.steps)
        escalation = None if not msg.HasField("escalation") else Escalation(
            Tier(msg.escalation.tier), encoding_from_pb(msg.escalation.encoding),
            msg.escalation.threshold)
    except ValueError as exc:
        raise PlanError(f"malformed plan: {exc}") from exc
    encodings = tuple(encoding_from_pb(e) for e in msg.encodings)
    return Plan(steps, encodings, msg.name, dict(msg.predicted), escalation)


def payload_to_pb(payload: Payload) -> wire_pb2.Payload:
    msg = wire_pb2.Payload(cut=payload.cut, encoding=encoding_to_pb(payload.encoding))
    if payload.tensor is not None:
        t = payload.tensor
        msg.tensor.CopyFrom(wire_pb2.Tensor(
            encoding=encoding_to_pb(t.encoding), shape=list(t.shape), data=t.data,
            scales=t.scales, digest=t.digest))
    elif payload.encoding is Encoding.CACHE_REF:
        msg.cache_key = payload.cache_key
    else:
        msg.image = payload.image
    return msg


def payload_from_pb(msg: wire_pb2.Payload) -> Payload:
    """The body must agree with the declared encoding."""
    encoding = encoding_from_pb(msg.encoding)
    body = msg.WhichOneof("body")
    if encoding.is_tensor:
        if body != "tensor":
            raise PlanError(f"payload says {encoding} but carries {body}")
        t = msg.tensor
        tensor = WireTensor(encoding_from_pb(t.encoding), tuple(int(d) for d in t.shape),
                            t.data, t.scales, t.digest)
        return Payload(msg.cut, encoding, tensor=tensor)
    if encoding is Encoding.CACHE_REF:
        if body != "cache_key":
            raise PlanError(f"payload says cache_ref but carries {body}")
        return Payload(msg.cut, encoding, cache_key=msg.cache_key)
    if body != "image":
        raise PlanError(f"the plan says {encoding} but the payload carries {body}")
    return Payload(msg.cut, encoding, image=msg.image)


def event_to_pb(event: Event) -> tier_pb2.ExecuteEvent:
    if isinstance(event, TokenEvent):
        return tier_pb2.ExecuteEvent(token=tier_pb2.Token(id=event.id, text=event.text))
    if isinstance(event, CacheMissEvent):
        return tier_pb2.ExecuteEvent(cache_miss=tier_pb2.CacheMiss(cache_key=event.cache_key))
    return tier_pb2.ExecuteEvent(result=tier_pb2.ExecuteResult(
        timings=[wire_pb2.StageTiming(tier=t.tier, stage=t.stage, seconds=t.seconds)
                 for t in event.timings],
        links=[wire_pb2.LinkTransfer(link=li.link, bytes=li.bytes, seconds=li.seconds)
               for li in event.links],
        busy_s=event.busy_s,
        status=status_to_pb(event.status),
        feature_cached_at=event.cached_at,
        tokens=event.tokens,
    ))


def event_from_pb(msg: tier_pb2.ExecuteEvent) -> Event:
    kind = msg.WhichOneof("event")
    if kind == "token":
        return TokenEvent(msg.token.id, msg.token.text)
    if kind == "cache_miss":
        return CacheMissEvent(msg.cache_miss.cache_key)
    r = msg.result
    return ResultEvent(
        [StageTiming(t.tier, t.stage, t.seconds) for t in r.timings],
        [LinkTransfer(li.link, li.bytes, li.seconds) for li in r.links],
        r.busy_s, status_from_pb(r.status), r.feature_cached_at, r.tokens,
    )


def status_to_pb(status: dict[str, float | str]) -> tier_pb2.TierStatus:
    fields = tier_pb2.TierStatus.DESCRIPTOR.fields_by_name
    known: dict[str, Any] = {k: v for k, v in status.items() if k in fields}
    return tier_pb2.TierStatus(**known)


def status_from_pb(msg: tier_pb2.TierStatus) -> dict[str, float | str]:
    out: dict[str, float | str] = {}
    for field, value in msg.ListFields():
        if isinstance(value, str | int | float):  # scalars; not downstream or key lists
            out[field.name] = value
    return out
