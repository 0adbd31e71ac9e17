"""How to ask: `AskOptions`, checked on construction, and the `AskFields` keywords that build it.

    client.ask("frame.jpg", "how many circles are there?", deadline_s=1.0, policy="offline")
    client.ask(image, question, AskOptions(plan="edge-only", preset="fastest"))

A policy given as one string is one policy; several go as a list. Presets and policies are
the planner's enums (strings accepted); a bad value is a BadRequest naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any, TypedDict

from splitvlm.errors import BadRequest
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import Preset

DEFAULT_DEADLINE_S = 30.0
AUTO = "auto"  # the planner decides (cascades included); "auto:fixed" leaves cascades out


class AskFields(TypedDict, total=False):
    """The keyword form of AskOptions (every field optional)."""

    deadline_s: float
    plan: str
    policy: str | Policy | Iterable[str | Policy]
    preset: str | Preset | None
    max_new_tokens: int
    no_cache: bool
    wait_for_ready: bool


@dataclass(frozen=True)
class AskOptions:
    deadline_s: float = DEFAULT_DEADLINE_S
    """Seconds the whole request may take (the gRPC deadline; the planner's latency budget)."""
    plan: str = AUTO
    """"auto" (the planner), "auto:fixed" (no cascades), or a named plan (`splitvlm demo`
    lists them; splitvlm.plan.named)."""
    policy: frozenset[Policy] = frozenset()
    """What may leave the edge: pixels_stay_on_edge, offline."""
    preset: Preset | None = None
    """The planner's weights: fastest, balanced, most-accurate, battery (None or "": the
    edge's default)."""
    max_new_tokens: int = 0
    """Answer tokens at most; 0: the tiers' limit."""
    no_cache: bool = False
    """Bypass the feature cache: always send what the plan computes."""
    wait_for_ready: bool = False
    """Wait (within the deadline) for an edge that is not up yet, instead of failing at once
    with NotAvailable."""

    def __post_init__(self) -> None:
        if not (isinstance(self.deadline_s, int | float) and math.isfinite(self.deadline_s)
                and self.deadline_s > 0):
            raise BadRequest(f"deadline_s={self.deadline_s!r}; expected seconds > 0")
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 0:
            raise BadRequest(f"max_new_tokens={self.max_new_tokens!r}; expected an int >= 0")
        object.__setattr__(self, "policy", _policies(self.policy))
        if self.preset == "":
            object.__setattr__(self, "preset", None)
        if self.preset is not None:
            try:
                object.__setattr__(self, "preset", Preset(self.preset))
            except ValueError:
                raise BadRequest(f"preset={self.preset!r}; expected one of "
                                 f"{[p.value for p in Preset]}") from None

    def with_fields(self, **changes: Any) -> AskOptions:
        """These options with some fields changed (None: unchanged); the new values are
        checked as on construction."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown ask option(s) {unknown}; options are {sorted(known)}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _policies(value: object) -> frozenset[Policy]:
    items = [value] if isinstance(value, str) else value  # one string is one policy
    if not isinstance(items, Iterable):
        raise BadRequest(f"policy={value!r}; expected a policy or a list of them")
    out = set()
    for item in items:
        try:
            out.add(Policy(item))
        except ValueError:
            raise BadRequest(f"policy {item!r} is unknown; policies are "
                             f"{[p.value for p in Policy]}") from None
    return frozenset(out)
