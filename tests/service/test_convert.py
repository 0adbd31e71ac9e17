"""Every message converts both ways unchanged; every enum member has its proto value; a value
the receiver cannot read is a BadRequest naming the field, never silently dropped."""

from __future__ import annotations

import numpy as np
import pytest

from splitvlm.cache import CacheStats
from splitvlm.errors import BadRequest, PlanError
from splitvlm.executor.messages import (
    CacheMissEvent,
    LinkTransfer,
    Payload,
    Request,
    ResultEvent,
    StageTiming,
    TokenEvent,
)
from splitvlm.executor.status import EngineLoad, LinkEstimate, TierStatus
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
from splitvlm.service import convert as c
from splitvlm.v1 import edge_pb2, tier_pb2, wire_pb2
from splitvlm.wire import encode
from splitvlm.wire.codecs import CODECS, Encoding

FORECAST = Forecast(0.1, 0.2, 0.9, -4.0, 0.05, 1188.0, 0.001,
                    (StageForecast(Tier.EDGE, 2, 0.003), StageForecast(Tier.FOG, 9, 0.02)),
                    (WaitForecast(Tier.FOG, 0.004),), (LinkForecast(Link.EDGE_FOG, 0.01, 1188),),
                    0.25, 0.3)
PLAN = Plan((Step(Tier.EDGE, 0, 4, Precision.INT8), Step(Tier.FOG, 4, 6), Step(Tier.CLOUD, 6, 10)),
            (Encoding.INT8_LZ4, Encoding.FP16), "custom", FORECAST)
CASCADE = Plan((Step(Tier.EDGE, 0, 10, Precision.INT8),), (), "cascade-cloud",
               escalation=Escalation(Tier.CLOUD, Encoding.FP16, 0.7))
REPORT = ProfileReport((StageCost(Tier.EDGE, 3, Precision.INT8, 0.001),
                        StageCost(Tier.CLOUD, 8, Precision.FP32, 0.002)),
                       (DecodeCost(Tier.CLOUD, 8, 0.004),),
                       (PreprocessCost(Tier.EDGE, 0.26, 0.003),))
STATUS = TierStatus(Tier.FOG, 2, EngineLoad(3, 4, 2.5), CacheStats(5, 6, 1, 0, 3, 6912, 1 << 20),
                    "v1hash", 17, 24, REPORT,
                    TierStatus(Tier.CLOUD, engine=EngineLoad(1, 2, 1.5)),
                    LinkEstimate(1e8, 0.02))


def test_every_python_enum_member_has_its_proto_value() -> None:
    for enum_map, py in ((c.TIER, Tier), (c.PRECISION, Precision), (c.ENCODING, Encoding),
                         (c.LINK, Link), (c.POLICY, Policy), (c.PRESET, Preset)):
        for member in py:
            assert enum_map.from_pb(enum_map.to_pb(member), "x") is member
    assert set(CODECS) <= set(Encoding)


@pytest.mark.parametrize("plan", [PLAN, CASCADE], ids=["three tiers", "cascade"])
def test_plans_round_trip_with_their_forecast(plan: Plan) -> None:
    back = c.plan_from_pb(wire_pb2.Plan.FromString(c.plan_to_pb(plan).SerializeToString()))
    assert back == plan and back.predicted == plan.predicted
    assert c.plan_from_pb(c.plan_to_pb(plan, with_forecast=False)).predicted is None


@pytest.mark.parametrize("payload", [
    Payload(0, Encoding.IMAGE, image=b"\xff\xd8jpeg"),
    Payload(1, Encoding.PNG, image=b"\x89PNG"),
    Payload(8, Encoding.CACHE_REF, cache_key="ab" * 16),
    *[Payload(8, (t := encode(np.ones((1, 9, 128), np.float32), e)).encoding, tensor=t)
      for e in CODECS],
], ids=lambda p: p.encoding.value)
def test_payloads_round_trip(payload: Payload) -> None:
    wire = wire_pb2.Payload.FromString(c.payload_to_pb(payload).SerializeToString())
    assert c.payload_from_pb(wire) == payload


def test_requests_round_trip_through_their_header() -> None:
    payload = Payload(8, Encoding.CACHE_REF, cache_key="k" * 32)
    request = Request(PLAN, "describe the image", payload, 7, "k" * 32, None, request_id="r1",
                      policies=frozenset({Policy.PIXELS_STAY_ON_EDGE}))
    header = c.header_to_pb(request, 123)
    assert header.payload_bytes == 123 and not header.plan.HasField("predicted")
    back = c.request_from_pb(tier_pb2.ExecuteHeader.FromString(header.SerializeToString()),
                             payload, None, 24)
    assert back == request
    header.max_new_tokens = 0
    assert c.request_from_pb(header, payload, None, 24).max_new_tokens == 24


@pytest.mark.parametrize("event", [
    TokenEvent(5, "red"), CacheMissEvent("k" * 32),
    ResultEvent([StageTiming(Tier.FOG, 2, 8, 0.01)], [LinkTransfer(Link.FOG_CLOUD, 99, 0.002)],
                0.3, STATUS, Tier.FOG, 3),
    ResultEvent(),
], ids=["token", "cache miss", "result", "empty result"])
def test_events_round_trip(event: object) -> None:
    wire = tier_pb2.ExecuteEvent.FromString(c.event_to_pb(event).SerializeToString())  # type: ignore[arg-type]
    assert c.event_from_pb(wire) == event


def test_statuses_round_trip_with_profile_downstream_and_link() -> None:
    wire = tier_pb2.TierStatus.FromString(c.status_to_pb(STATUS).SerializeToString())
    assert c.status_from_pb(wire) == STATUS
    assert c.profile_from_pb(c.profile_to_pb(REPORT)) == REPORT


def test_answers_round_trip() -> None:
    fields = c.AnswerFields("a red circle", [StageTiming(Tier.EDGE, 0, 1, 0.003)],
                            [LinkTransfer(Link.EDGE_FOG, 10, 0.001)], 0.02, "k", True, 0.4,
                            "r")
    wire = edge_pb2.Answer.FromString(c.answer_to_pb(fields).SerializeToString())
    assert c.answer_from_pb(wire) == fields
    choice = c.plan_choice_to_pb(PLAN, "why", ["preprocess", "patch_embed"])
    assert c.plan_from_pb(choice.plan) == PLAN and list(choice.stage_names)[1] == "patch_embed"


@pytest.mark.parametrize(("build", "message"), [
    (lambda: c.plan_from_pb(wire_pb2.Plan(steps=[wire_pb2.Step(tier=7)])),
     r"plan.steps\[0\].tier is unknown Tier 7"),
    (lambda: c.plan_from_pb(wire_pb2.Plan(steps=[wire_pb2.Step()])),
     r"plan.steps\[0\].tier is unspecified"),
    (lambda: c.payload_from_pb(wire_pb2.Payload(encoding=0)), "payload.encoding is unspecified"),
    (lambda: c.payload_from_pb(wire_pb2.Payload(encoding=wire_pb2.ENCODING_FP16, image=b"x")),
     "payload.encoding is fp16 but the payload carries image; expected tensor"),
    (lambda: c.payload_from_pb(wire_pb2.Payload(encoding=wire_pb2.ENCODING_CACHE_REF)),
     "carries no body"),
    (lambda: c.request_from_pb(tier_pb2.ExecuteHeader(policies=[9]),
                               Payload(0, Encoding.IMAGE), None, 24),
     "carries no plan"),
    (lambda: c.request_from_pb(tier_pb2.ExecuteHeader(plan=c.plan_to_pb(PLAN), policies=[9]),
                               Payload(0, Encoding.IMAGE), None, 24),
     "header.policies is unknown Policy 9"),
    (lambda: c.event_from_pb(tier_pb2.ExecuteEvent()), "carries no event"),
])
def test_unreadable_values_name_their_field(build: object, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        build()  # type: ignore[operator]


def test_a_bad_plan_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="malformed plan"):
        c.plan_from_pb(wire_pb2.Plan(encodings=[42]))
