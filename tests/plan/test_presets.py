from __future__ import annotations

import math

import pytest

from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import PRESETS, PlannerConfig, Weights, preset
from splitvlm.plan.request import PlanRequest


def test_preset_exchange_rates_are_as_documented() -> None:
    assert set(PRESETS) == {"fastest", "balanced", "most-accurate", "battery"}
    balanced = preset("balanced")
    assert 0.01 * balanced.accuracy == pytest.approx(0.050 * balanced.latency)  # 1 pt = 50 ms
    fastest = preset("fastest")
    assert fastest.energy == 0 and 0.01 * fastest.accuracy < 1e-4 * fastest.latency
    battery = preset("battery")
    assert battery.energy > battery.latency and battery.energy > 0.01 * battery.accuracy
    assert preset("most-accurate").accuracy / preset("most-accurate").latency >= 100


def test_validation_names_the_field_and_value() -> None:
    with pytest.raises(ValueError, match="Weights.energy=-1"):
        Weights(energy=-1)
    with pytest.raises(ValueError, match="all zero"):
        Weights(0, 0, 0)
    with pytest.raises(ValueError, match="preset='slowest'"):
        preset("slowest")
    with pytest.raises(ValueError, match="lz4_ratio=1.5"):
        PlannerConfig(lz4_ratio=1.5)
    with pytest.raises(ValueError, match="edge_active_w=nan"):
        PlannerConfig(edge_active_w=math.nan)
    config = PlannerConfig()
    assert config.edge_active_w == 5.0 and config.edge_radio_w == 1.0


def test_request_validation_and_resolution() -> None:
    request = PlanRequest("describe the image", 1000, policy=frozenset({"offline"}))  # type: ignore[arg-type]
    assert request.policy == {Policy.OFFLINE}
    assert request.resolved_qtype() == "caption" and request.question_bytes == 18
    assert request.resolved_decode_tokens("caption") == 16
    assert PlanRequest("x", 1, qtype="count", decode_tokens=3).resolved_decode_tokens("count") == 3
    with pytest.raises(ValueError, match="image_bytes=0"):
        PlanRequest("x", 0)
    with pytest.raises(ValueError, match="deadline_s=0"):
        PlanRequest("x", 1, deadline_s=0)
    with pytest.raises(ValueError, match="qtype='colour'"):
        PlanRequest("x", 1, qtype="colour")
    with pytest.raises(ValueError, match="preset='nope'"):
        PlanRequest("x", 1, preset="nope")
