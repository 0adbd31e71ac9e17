"""Policies hold for every plan however it was chosen: a named plan, a cascade's escalation,
a payload arriving at a tier; the refusal names the policy and the step."""

from __future__ import annotations

import pytest

from splitvlm.errors import PolicyViolation
from splitvlm.plan.named import named_plan, plan_names
from splitvlm.plan.plan import Tier
from splitvlm.plan.policies import Policy, enforce, enforce_arrival
from splitvlm.wire.codecs import Encoding

from .worlds import GRAPH

PIXELS, OFFLINE = Policy.PIXELS_STAY_ON_EDGE, Policy.OFFLINE


@pytest.mark.parametrize(("name", "policy", "message"), [
    ("cloud-all", PIXELS, "pixels_stay_on_edge: plan cloud-all sends the image (image) from the "
                     "edge tier to the cloud tier"),
    ("fog-all", PIXELS, "sends the pixels (png) from the edge tier to the fog tier"),
    ("cloud-all", OFFLINE, "offline: plan cloud-all hands off to the cloud tier"),
    ("edge-vision+fog-lm", OFFLINE, "hands off to the fog tier"),
    ("cascade-fog@1", OFFLINE, "offline: cascade cascade-fog@1 escalates to the fog tier"),
])
def test_a_named_plan_that_breaks_a_policy_is_refused(name: str, policy: Policy,
                                                      message: str) -> None:
    with pytest.raises(PolicyViolation, match=message.replace("(", r"\(").replace(")", r"\)")):
        enforce(named_plan(name, GRAPH), {policy})


def test_what_each_policy_allows() -> None:
    allowed: dict[Policy, list[str]] = {PIXELS: [], OFFLINE: []}
    for name in [*plan_names(GRAPH), "cascade-fog", "cascade-cloud"]:
        for policy in (PIXELS, OFFLINE):
            try:
                enforce(named_plan(name, GRAPH), {policy})
            except PolicyViolation:
                continue
            allowed[policy].append(name)
    assert allowed[OFFLINE] == ["edge-only"]
    assert "fog-all" not in allowed[PIXELS] and "cloud-all" not in allowed[PIXELS]
    assert {"edge-only", "edge-vision+fog-lm", "cascade-cloud", "split-0"} <= set(
        allowed[PIXELS])


def test_a_tier_refuses_a_payload_the_policy_keeps_on_the_edge() -> None:
    with pytest.raises(PolicyViolation, match="the fog tier refuses this request's png"):
        enforce_arrival(Tier.FOG, Encoding.PNG, {PIXELS})
    with pytest.raises(PolicyViolation, match="the cloud tier refuses this request's fp16"):
        enforce_arrival(Tier.CLOUD, Encoding.FP16, {OFFLINE})
    enforce_arrival(Tier.FOG, Encoding.FP16, {PIXELS})  # visual tokens may leave
    enforce_arrival(Tier.EDGE, Encoding.IMAGE, {PIXELS, OFFLINE})  # the edge holds it anyway
