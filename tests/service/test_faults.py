"""Answers through faults, with the tiers as processes: a fog killed (SIGKILL) or frozen
(SIGSTOP) before a request reaches it costs that request a fallback to the edge's LM,
not its deadline; a plan pinned to the dead tier fails at once naming it; the planner plans
around the fog, and goes back to it when it is seen again."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.planning import VERIFY_S
from splitvlm.plan.plan import Tier
from splitvlm.processes import TierProcess, start_tier
from splitvlm.sdk import Client, TierUnavailable

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scene-0.jpg"
QUESTION = "what is left of the red square ?"
REMOTE = {"plan": "auto", "preset": "most-accurate", "no_cache": True}  # prefers an upstream LM
DEADLINE_S = 20.0
NO_WAIT_S = 3.0  # an answer this soon did not wait out its 20 s deadline


def stop(tier: TierProcess) -> None:
    if tier.proc.poll() is None:
        tier.proc.send_signal(signal.SIGCONT)
        tier.proc.kill()
    tier.proc.wait()
    if tier.proc.stdout is not None:
        tier.proc.stdout.close()


@pytest.fixture
def tiers(checkpoints: Path) -> Iterator[dict[str, TierProcess]]:
    running: dict[str, TierProcess] = {}
    try:
        running["cloud"] = start_tier("cloud")
        running["fog"] = start_tier("fog", running["cloud"].target)
        running["edge"] = start_tier("edge", running["fog"].target)
        yield running
    finally:
        for tier in running.values():
            stop(tier)


def timed_ask(client: Client, image: bytes) -> tuple[float, str, str]:
    """(seconds, the tier whose LM answered, why: the explanation and any fallback)."""
    t0 = time.perf_counter()
    answer = client.ask(image, QUESTION, deadline_s=DEADLINE_S, **REMOTE)  # type: ignore[arg-type]
    answered_by = Tier.EDGE.value if answer.fallback else answer.plan.lm_tier.value
    if answer.fallback:
        assert answer.degraded  # the edge's LM, for want of an upstream one
    return (time.perf_counter() - t0, answered_by,
            answer.explanation + "\n" + answer.fallback)


def test_a_killed_fog_costs_a_fallback_not_the_deadline(tiers: dict[str, TierProcess]) -> None:
    image = EXAMPLE.read_bytes()
    with Client(tiers["edge"].target) as client:
        before = client.ask(image, QUESTION, deadline_s=DEADLINE_S, **REMOTE)  # type: ignore[arg-type]
        assert before.plan.lm_tier is not Tier.EDGE  # upstream while the fog lives
        assert not before.degraded
        tiers["fog"].proc.send_signal(signal.SIGKILL)
        tiers["fog"].proc.wait()
        seconds, lm, why = timed_ask(client, image)
        assert lm == Tier.EDGE.value and "fog tier" in why  # the edge's LM answered
        assert seconds < NO_WAIT_S  # far from its deadline (timings: docs/operations.md)
        later = client.ask(image, QUESTION, deadline_s=DEADLINE_S, **REMOTE)  # type: ignore[arg-type]
        assert later.plan.lm_tier is Tier.EDGE and not later.fallback  # placed around it ...
        assert later.degraded  # ... which the answer says
        t0 = time.perf_counter()
        with pytest.raises(TierUnavailable, match="the fog tier is unreachable, and plan "
                                                  "edge-vision\\+fog-lm needs it") as caught:
            client.ask(image, QUESTION, plan="edge-vision+fog-lm", deadline_s=DEADLINE_S)
        assert caught.value.tier == "fog" and time.perf_counter() - t0 < NO_WAIT_S


def test_a_frozen_fog_is_left_within_the_connect_budget_then_used_again(
        tiers: dict[str, TierProcess]) -> None:
    image = EXAMPLE.read_bytes()
    fog = tiers["fog"].proc
    with Client(tiers["edge"].target) as client:
        timed_ask(client, image)
        fog.send_signal(signal.SIGSTOP)
        try:
            seconds, lm, why = timed_ask(client, image)
            assert lm == Tier.EDGE.value and "did not answer within" in why  # fallback budget
            assert seconds < NO_WAIT_S  # the connect budget, not the deadline
            time.sleep(2 * VERIFY_S)  # suspected: its Status, unanswered, confirms it
            seconds, lm, why = timed_ask(client, image)  # planned around it from the start
            assert lm == Tier.EDGE.value and "did not answer" not in why
        finally:
            fog.send_signal(signal.SIGCONT)
        give_up = time.monotonic() + 15  # the edge's refresh (every 2 s) sees it again
        while timed_ask(client, image)[1] == Tier.EDGE.value:
            assert time.monotonic() < give_up, "the planner never went back to the fog"
            time.sleep(0.5)
